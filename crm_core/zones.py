"""Time zones by their stored names."""

from __future__ import annotations

from zoneinfo import ZoneInfo


def zone(name: str | None) -> ZoneInfo:
    """A stored zone name's zone; UTC when it is empty or unknown (a zone removed from tzdata)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
