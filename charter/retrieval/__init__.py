"""Charter retrieval."""
