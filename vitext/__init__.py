"""Vietnamese text helpers shared by the service and the Rasa engine.

Standard library only: this package is imported by both runtimes (Python 3.10 and ≥ 3.11).
"""

from vitext.normalize import (
    MAX_MESSAGE_CHARS,
    MessageTooLongError,
    fold,
    fold_words,
    nfc_with_offsets,
    normalize_message,
    strip_accents,
)
from vitext.validity import invalid_character

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MessageTooLongError",
    "fold",
    "fold_words",
    "invalid_character",
    "nfc_with_offsets",
    "normalize_message",
    "strip_accents",
]
