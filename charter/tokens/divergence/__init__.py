"""Token divergence: how much of an app's styling bypasses the design tokens.

``scan(ScanOptions(paths=["web=apps/web", "admin=apps/admin"], tokens=Path("tokens")))`` reads
CSS, SCSS, Less, JavaScript, TypeScript (JSX/TSX), Vue, Svelte and HTML, finds declarations of
tokenisable properties (colour, spacing, radius, font size/weight/family, line height, letter
spacing, shadow, border, z-index, opacity, motion) and reports, per app and per file, the share of
them that hard-code a value or use a base token directly. See :mod:`.scan` for the rules.
"""

from __future__ import annotations

from charter.tokens.divergence.report import AppReport, DivergenceReport, FileReport, Finding
from charter.tokens.divergence.scan import ScanOptions, scan

__all__ = ["AppReport", "DivergenceReport", "FileReport", "Finding", "ScanOptions", "scan"]
