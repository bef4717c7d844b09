"""Reading notes from the database in the shape the indexes store them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Interaction
from retrieval.passages import Passage, split_note
from retrieval.store import NoteMeta

_CHUNK = 500


@dataclass(frozen=True)
class IndexedNote:
    """A live note as the indexes see it."""

    interaction_id: int
    passages: list[Passage]
    meta: NoteMeta


_COLUMNS = (
    Interaction.id,
    Interaction.customer_id,
    Interaction.author_id,
    Interaction.kind,
    Interaction.occurred_at,
    Interaction.text,
    Interaction.deleted_at,
)


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _note(row: tuple) -> IndexedNote:  # type: ignore[type-arg]
    iid, customer, author, kind, at, text, _ = row
    meta = NoteMeta(customer_id=customer, author_id=author, kind=str(kind), occurred_at=_epoch(at))
    return IndexedNote(iid, split_note(iid, text), meta)


def live_notes(session: Session, *, batch: int = 2_000) -> Iterator[list[IndexedNote]]:
    """Every live note, in id order, a batch at a time."""
    last = 0
    while True:
        rows = session.execute(
            select(*_COLUMNS)
            .where(Interaction.id > last, Interaction.deleted_at.is_(None))
            .order_by(Interaction.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [_note(tuple(r)) for r in rows]


def current_notes(session: Session, ids: Iterable[int]) -> dict[int, IndexedNote | None]:
    """The current state of these notes: None for one deleted or gone."""
    wanted = sorted(set(ids))
    out: dict[int, IndexedNote | None] = dict.fromkeys(wanted)
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        for row in session.execute(select(*_COLUMNS).where(Interaction.id.in_(chunk))):
            if row[6] is None:
                out[row[0]] = _note(tuple(row))
    return out
