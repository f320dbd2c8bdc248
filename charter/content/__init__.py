"""Entries, revisions and locales: the embedded headless CMS.

Writes go through :mod:`charter.content.actions` (one function per use case); reads through
:mod:`charter.content.store`.
"""

from charter.content.models import Entry, Revision

__all__ = ["Entry", "Revision"]
