"""Media assets: uploads checked from their bytes, versioned metadata with required alt text,
storage as a plugin (local folder or S3-compatible), references from content with constraints,
and delivery with image transforms cached on disk (docs/assets.md)."""
