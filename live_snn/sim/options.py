"""Parsing what a user types about the simulator: gesture classes and resolutions.

Shared by the ``sim:`` source spec and the ``simulate`` / ``serve-sim`` commands so both
accept the same spellings.
"""

from __future__ import annotations

from collections.abc import Iterable

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import LiveSnnError
from live_snn.events import Resolution


def _slug(name: str) -> str:
    return "-".join(name.lower().replace("_", " ").replace("-", " ").split())


_BY_SLUG = {_slug(name): index for index, name in enumerate(DVS_GESTURE_CLASSES)}


def gesture_choices() -> str:
    """One line listing the accepted class spellings, for help and error messages."""
    return ", ".join(f"{i + 1}={_slug(n)}" for i, n in enumerate(DVS_GESTURE_CLASSES))


def parse_gesture_class(token: str) -> int:
    """A class number as in the DVS128 Gesture CSV (1..11) or a class name (case and
    ``-``/``_``/space insensitive, e.g. ``right-arm-clockwise``) -> 0-based index."""
    text = token.strip()
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(DVS_GESTURE_CLASSES):
            return number - 1
        raise LiveSnnError(
            f"gesture class {number} out of range 1..{len(DVS_GESTURE_CLASSES)} ({gesture_choices()})"
        )
    index = _BY_SLUG.get(_slug(text))
    if index is None:
        raise LiveSnnError(f"unknown gesture class {token!r}; use one of: {gesture_choices()}")
    return index


def parse_gesture_classes(tokens: Iterable[str]) -> tuple[int, ...]:
    """Several classes; each token may itself hold several joined by ``+``."""
    classes = [parse_gesture_class(part) for token in tokens for part in token.split("+") if part.strip()]
    if not classes:
        raise LiveSnnError(f"no gesture class given; use one of: {gesture_choices()}")
    return tuple(dict.fromkeys(classes))  # keep order, drop repeats


def parse_resolution(text: str) -> Resolution:
    """``WIDTHxHEIGHT`` (e.g. ``128x128``, ``346x260``) -> Resolution."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise LiveSnnError(f"resolution must be WIDTHxHEIGHT such as 128x128, got {text!r}") from None
    if width < 32 or height < 32:
        raise LiveSnnError(f"resolution must be at least 32x32 to draw a person, got {text!r}")
    return Resolution(width, height)
