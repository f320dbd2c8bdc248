"""Structural diff of two JSON Schema 2020-12 documents, classified by direction.

The comparison walks both schemas in step. For each keyword it decides, conservatively, whether
the change can reject content the old schema accepted (breaks BACKWARD: stored entries) and
whether it can produce content the old schema rejected (breaks FORWARD: consumers written
against the old schema). When a change cannot be proven safe in a direction (a changed
``pattern``, an unknown keyword), it is reported as breaking that direction.

Local ``$ref`` are followed; a pair of definitions is compared once and its changes are reported
at the definition's pointer in the new schema (``/$defs/hero/...``), which also makes recursive
schemas terminate. A ``$ref`` that does not resolve, or a chain of ``$ref`` that only points at
itself, raises :class:`SchemaDiffError`.

The modules, by what they decide:

- :mod:`.differ`: the walk, ``$ref`` pairs compared once, non-monotonic contexts (:class:`Differ`);
- :mod:`.schema`: one schema on its own: canonical form, ``$ref`` resolution, ``false``;
- :mod:`.keywords`: which keywords are annotations, root-only, or have a rule;
- :mod:`.annotations`: documentation-only changes, and keywords not analysed;
- :mod:`.values`: ``type``, ``enum``/``const``, ``x-charter-ref``;
- :mod:`.bounds`: numeric ranges, ``multipleOf``, length and count limits, ``pattern``, ``format``;
- :mod:`.objects`: ``required``, properties, ``additionalProperties``, dependencies;
- :mod:`.arrays`: ``prefixItems``, ``items``, ``contains``, ``uniqueItems``;
- :mod:`.combinators`: ``oneOf``, ``anyOf``, ``allOf``, ``not``.
"""

from __future__ import annotations

from charter.schemas.compat.diff.differ import Differ, diff_schemas
from charter.schemas.compat.diff.schema import SchemaDiffError, canonical

__all__ = ["Differ", "SchemaDiffError", "canonical", "diff_schemas"]
