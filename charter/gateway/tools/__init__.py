"""The tool registry: ``tools/*.yaml`` (:mod:`.registry`), what a chat request may offer and
send back (:mod:`.offer`), and the catalog behind ``charter tools`` (:mod:`.catalog`)."""

from __future__ import annotations

from charter.gateway.tools.registry import Tool, ToolRegistry, ToolVersion

__all__ = ["Tool", "ToolRegistry", "ToolVersion"]
