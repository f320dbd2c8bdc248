"""The prompt registry: versioned templates in ``prompts/*.yaml``, labels and flags, eval-gated
promotion and rollback (see docs/prompts.md)."""
