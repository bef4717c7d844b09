"""Saved in-memory indexes: a directory per snapshot, swapped in atomically."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_snapshot(root: Path, fill: Callable[[Path], None], meta: dict[str, Any]) -> None:
    """Write a snapshot with `fill(directory)` and `meta`, then make it the current one."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"snap-{uuid.uuid4().hex[:12]}"
    tmp = root / f".{name}"
    tmp.mkdir()
    try:
        fill(tmp)
        (tmp / "meta.json").write_text(json.dumps(meta))
        tmp.rename(root / name)
        # Readers open `current` then the directory it names: replacing the pointer is atomic.
        pointer = root / f".current-{name}"
        pointer.write_text(name)
        pointer.replace(root / "current")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in root.iterdir():
        # A process still reading an old one holds its files open (memory-mapped): fine on POSIX.
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def read_snapshot(root: Path) -> tuple[Path, dict[str, Any]]:
    """The current snapshot's directory and meta; OSError or ValueError when there is none."""
    path = root / (root / "current").read_text().strip()
    meta = json.loads((path / "meta.json").read_text())
    if not isinstance(meta, dict):
        raise ValueError("snapshot meta is not an object")
    return path, meta
