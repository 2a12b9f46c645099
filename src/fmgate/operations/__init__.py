"""Operators' tools: hot reload of the catalog, ``fmgate models add``, the status page."""
