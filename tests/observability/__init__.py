"""Observability: metrics, logs, request summaries."""
