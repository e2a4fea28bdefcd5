"""aioboto3 clients: opened once in the lifespan, shared by every request."""
