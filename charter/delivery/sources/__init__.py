"""Content sources behind the delivery API: the embedded store, or another CMS through an adapter."""

from charter.delivery.sources.base import ContentSource, RenderedList

__all__ = ["ContentSource", "RenderedList"]
