"""The zero-config local run: moto on loopback, SQLite, local runners (`make run`)."""
