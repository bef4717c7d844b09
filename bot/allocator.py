"""Process memory: large transient buffers go straight back to the system when freed."""

from __future__ import annotations

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
    import ctypes
    import ctypes.util

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


def pause_collector_while_loading() -> None:
    """Leave cyclic collection off while a command loads its modules and builds the app.

    Loading makes ~140,000 long-lived objects and almost no cyclic garbage, yet the counts
    alone trigger collections, full ones among them, that walk everything loaded so far:
    50-80 ms of a one-shot `crmbot run`. `loaded()` turns it back on.
    """
    gc.disable()


def loaded() -> None:
    """Start-up is over: keep what it loaded out of later collections and collect again."""
    gc.freeze()
    gc.enable()


def unfreeze_heap() -> None:
    """Hand the frozen objects back to the collector (when serving stops)."""
    gc.unfreeze()
