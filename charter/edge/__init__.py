"""Caches in front of Charter (docs/edge.md): a VCL for Varnish written from Charter's own rules
(:mod:`charter.edge.vcl`), and the purges sent to them by surrogate key when content changes
(:mod:`charter.edge.purge`, configured by ``[charter.edge]``: :mod:`charter.edge.settings`)."""
