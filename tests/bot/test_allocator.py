"""The allocator tuning the serving process applies at start."""

from __future__ import annotations

import ctypes.util
import gc
import platform

import pytest

from bot.allocator import (
    freeze_startup_heap,
    loaded,
    pause_collector_while_loading,
    return_large_buffers,
    unfreeze_heap,
)


@pytest.mark.skipif(
    platform.system() != "Linux" or "musl" in (ctypes.util.find_library("c") or ""),
    reason="glibc only",
)
def test_glibc_takes_the_mmap_threshold() -> None:
    """mallopt accepts the setting (it returns 0 for a parameter it refuses)."""
    assert return_large_buffers() is True
    assert return_large_buffers() is True  # idempotent: every App build calls it


def test_frozen_start_up_heap_is_not_walked_by_full_collections() -> None:
    """After the freeze a full collection has only what came later to look at."""
    ballast = [[i] for i in range(200_000)]  # stands in for the modules start-up loads
    try:
        frozen = freeze_startup_heap()
        assert frozen >= len(ballast)
        gc.collect()
        # The oldest generation, which a full collection walks, no longer holds them.
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert not any(id(d) in oldest for d in ballast)
    finally:
        unfreeze_heap()
    assert gc.get_freeze_count() == 0


def test_loading_pauses_the_collector_and_loaded_freezes_what_it_made() -> None:
    """No collection walks the heap while modules load; afterwards the collector runs again
    and what loading made stays out of its way."""
    pause_collector_while_loading()
    try:
        assert not gc.isenabled()
        ballast = [[i] for i in range(50_000)]  # stands in for the loaded modules
    finally:
        loaded()
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(ballast)
    finally:
        unfreeze_heap()
