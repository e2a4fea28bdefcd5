"""Clients of outside services other than AWS (Stripe); opened once in the lifespan."""
