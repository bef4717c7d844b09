"""Process memory: large transient buffers go straight back to the system when freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

# glibc's mallopt parameter for the size above which a buffer gets a mapping of its own.
_M_MMAP_THRESHOLD = -3
# Above the arrays one question uses (a float64 score per passage: 1.6 MB at 200,000), below
# the responses a Chroma server sends when vectors are read (about 4 MB a page).
LARGE = 2 * 1024 * 1024


def return_large_buffers() -> bool:
    """Have glibc map buffers over 2 MiB on their own and unmap them when freed; False if
    the C library is not glibc (musl, macOS), where there is nothing to tune.

    By default glibc raises that threshold after the first big buffer is freed, so later ones
    land on the heap, which it rarely gives back: reading 200,000 vectors from a Chroma server
    left about 200 MB of freed response buffers resident in the serving process.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE))
    except (OSError, AttributeError):
        return False


def freeze_startup_heap() -> int:
    """Collect once, then keep everything alive after start-up out of later collections.

    The modules, classes and tables a process loads at start (about 140,000 objects for the
    command layer alone) never become garbage, yet every full collection walked them all:
    60-100 ms, landing on whichever command happened to allocate at that moment (the
    `duplicates` p95 of 127 ms was these pauses). Returns how many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def unfreeze_heap() -> None:
    """Hand the frozen objects back to the collector (when serving stops)."""
    gc.unfreeze()
