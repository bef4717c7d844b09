"""The allocator tuning the serving process applies at start."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from bot.allocator import return_large_buffers


@pytest.mark.skipif(
    platform.system() != "Linux" or "musl" in (ctypes.util.find_library("c") or ""),
    reason="glibc only",
)
def test_glibc_takes_the_mmap_threshold() -> None:
    """mallopt accepts the setting (it returns 0 for a parameter it refuses)."""
    assert return_large_buffers() is True
    assert return_large_buffers() is True  # idempotent: every App build calls it
