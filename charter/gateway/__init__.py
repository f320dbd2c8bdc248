"""Charter gateway."""
