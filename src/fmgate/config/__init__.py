"""Configuration: the catalog schema, its loader, and secret references."""
