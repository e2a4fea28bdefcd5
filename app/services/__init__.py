"""Use cases: one module per feature. They raise domain errors and never import FastAPI."""
