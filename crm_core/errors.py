"""Typed errors raised by services; handlers turn them into replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CrmError(Exception):
    """Base of every error a person can act on; `key` names a message in the catalogues."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotFound(CrmError):
    """Nothing visible to the actor matches (whether it exists or not)."""


class PermissionDenied(CrmError):
    """The actor may see the record but not do this to it."""


class Invalid(CrmError):
    """The input is wrong; the message says what to type instead."""


@dataclass(frozen=True)
class Candidate:
    """One possible match for an ambiguous name."""

    id: int
    label: str
    detail: str = ""


class Ambiguous(CrmError):
    """A name matches several visible records; the person must choose."""

    def __init__(self, field: str, query: str, candidates: list[Candidate]) -> None:
        super().__init__("error.ambiguous", query=query, count=len(candidates))
        self.field = field
        self.query = query
        self.candidates = candidates


class SchemaOutOfDate(Exception):
    """The database schema is behind the code; `crmbot db upgrade` fixes it."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"The database schema is at revision {current or 'none (empty database)'} but this "
            f"version of crmbot needs {head}. Run `crmbot db upgrade` and start again."
        )
        self.current = current
        self.head = head


class StagesMismatch(Exception):
    """Deals sit in stages the configured pipeline no longer names; starting would hide them."""

    def __init__(self, counts: dict[str, int]) -> None:
        listed = ", ".join(
            f"{name} ({n} deal{'s' if n != 1 else ''})" for name, n in sorted(counts.items())
        )
        super().__init__(
            f"Deals are in stages that CRMBOT_STAGES does not name: {listed}. Add those stages "
            "back to CRMBOT_STAGES (in order, with a probability), or rename them in the "
            "database before changing the setting; crmbot will not start and hide those deals."
        )
        self.counts = counts
