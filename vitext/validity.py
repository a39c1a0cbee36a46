"""Is this text storable and safe to pass on? Lone surrogates and control characters are not.

A Python string decoded from JSON may hold a lone surrogate (``"\\ud800"`` is valid JSON), which
no UTF-8 database, log or HTTP client can encode; NUL is refused by PostgreSQL; the other C0
controls (and DEL) have no place in what a citizen writes and break log lines. Free-form text
may keep tab, line feed and carriage return; a single-line value (a path segment, a code) may
not. A valid surrogate *pair* in JSON decodes to one astral character, so any surrogate code
point left in a ``str`` is a lone one.

Standard library only (imported by the service and the engine).
"""

from __future__ import annotations

import re

# C0 controls except tab, LF and CR; DEL; every surrogate code point.
_INVALID_FREE_FORM = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_INVALID_SINGLE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def invalid_character(text: str, *, free_form: bool = True) -> str | None:
    """The first character of ``text`` that must be refused, or None when it is clean."""
    pattern = _INVALID_FREE_FORM if free_form else _INVALID_SINGLE_LINE
    found = pattern.search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    """A character as ``U+XXXX``, for logs (never the character itself)."""
    return f"U+{ord(char):04X}"
