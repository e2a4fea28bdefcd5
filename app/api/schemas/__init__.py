"""Request and response models, one module per route module."""
