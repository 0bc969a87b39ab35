"""The error of an operation given input that cannot work (tools turn it into a ToolError)."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """A tool argument that cannot work; the message names the argument and the fix."""
