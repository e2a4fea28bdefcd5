"""SQLAlchemy models and the async engine."""
