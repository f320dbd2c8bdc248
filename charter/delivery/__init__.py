"""The delivery API: a thin, cached, read-only view of published content."""
