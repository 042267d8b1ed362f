"""Tokens and numbers in sentences (summaries are read aloud, so no ␣ symbols there)."""
from __future__ import annotations


def quoted(token: str) -> str:
    """A token as a sentence names it: ' Paris' -> '“Paris”'."""
    return f"\u201c{token.strip()}\u201d"


def setting(value: float | int | None) -> str:
    """A filter setting as text: None is 'off'."""
    return "off" if value is None else f"{value:g}"
