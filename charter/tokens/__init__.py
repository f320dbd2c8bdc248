"""Design tokens: a DTCG 2025.10 compiler with themes, contrast rules, versioning and divergence.

Entry points (import them from their modules; this package imports nothing, so ``charter tokens
build`` starts fast):

* :func:`charter.tokens.build.build` (``BuildOptions`` -> ``BuildResult``): sources -> themes ->
  contrast -> version -> every output format, written atomically; raises ``ValidationFailed``.
* :func:`charter.tokens.check.check_tokens`: the same checks as data (errors, contrast results,
  colour swatches per theme) for gates and dashboards; never raises for bad tokens.
* :func:`charter.tokens.themes.load_themes`: parse, compose (resolver module) and resolve themes.
* :func:`charter.tokens.divergence.scan` (``ScanOptions`` -> ``DivergenceReport``).
* :mod:`charter.tokens.versioning`: diff against the last release, semver bump, changelog.
* :mod:`charter.tokens.metrics`: record builds and scans as ``tokens.*`` events.

Modules: ``parser`` (Format Module structure), ``aliases`` (types and references), ``values``
(per-type value rules), ``shortform`` (the seed's short form), ``resolver`` and ``merge`` (Resolver
Module), ``themes``, ``a11y`` and ``colors`` (coloraide), ``css_values``, ``formats/`` (plugins).
See docs/tokens.md.
"""
