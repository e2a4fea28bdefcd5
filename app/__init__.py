"""Reframer: the API service."""
