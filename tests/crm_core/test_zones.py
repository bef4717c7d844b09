"""Stored zone names to zones: an unknown or empty name is UTC, never an error."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from crm_core.zones import zone


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Asia/Shanghai", "Asia/Shanghai"),
        ("America/New_York", "America/New_York"),
        ("Mars/Olympus", "UTC"),
        ("", "UTC"),
        (None, "UTC"),
        ("../etc/passwd", "UTC"),
    ],
)
def test_zone(name: str | None, expected: str) -> None:
    assert zone(name) == ZoneInfo(expected)
