"""Hybrid note search: BM25 and vectors, each filtered inside its query, fused by rank."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core.access import visible_customer_ids
from crm_core.models import Interaction, Role, Ticket, User
from retrieval.embedders import Embedder
from retrieval.fusion import RRF_K, rrf
from retrieval.glossary import translated
from retrieval.in_process import InProcessIndexes
from retrieval.lexical import Filter
from retrieval.notes import Cited, cited_tickets
from retrieval.question import QuestionShape
from retrieval.store import DenseHit, DenseIndex
from retrieval.tokens import has_cjk
from retrieval.vectors import EXACT_LIMIT

log = logging.getLogger(__name__)

# Each index returns this many passages before fusion.
DEPTH = 50
# A note the question's translated words found ranks by them only with at least this share of
# the best note's BM25 score (0.5 dropped notes the words rightly found, 0.35 kept them; chosen
# on blind7 and blind3, see docs/benchmarks.md).
_WORDS_SHARE = 0.35


@dataclass
class NoteHit:
    """A note found for a question, with the evidence from each index."""

    interaction_id: int
    score: float
    seq: int = 0
    lexical: float = 0.0
    dense: float | None = None
    lexical_rank: int | None = None
    dense_rank: int | None = None


@dataclass
class SearchResult:
    """Notes best first, and whether the dense side took part."""

    hits: list[NoteHit]
    dense_used: bool
    dense_best: float | None = None
    dense_median: float | None = None
    notes: dict[int, Cited] = field(default_factory=dict)
    # What the answer gate reads again: the question's vector and the filter searched under.
    vector: np.ndarray | None = None
    filter: Filter | None = None


def _epoch(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp())


def visible_customers(session: Session, actor: User) -> frozenset[int] | None:
    """Customer ids `actor` may see (None: every customer), from the one access filter."""
    if actor.active and actor.role == Role.admin:
        return None
    return frozenset(session.scalars(visible_customer_ids(actor)))


def chroma_where(flt: Filter) -> dict[str, object] | None:
    """The filter as a Chroma `where` clause, so the vector search only sees allowed notes."""
    parts: list[dict[str, object]] = []
    if flt.customers is not None:
        parts.append({"customer_id": {"$in": sorted(flt.customers)}})
    if flt.kinds is not None:
        parts.append({"kind": {"$in": sorted(flt.kinds)}})
    if flt.since is not None:
        parts.append({"occurred_at": {"$gte": flt.since}})
    if flt.until is not None:
        parts.append({"occurred_at": {"$lt": flt.until}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


class NoteSearch(InProcessIndexes):
    """Questions over the note indexes of one process: lexical in memory, dense in Chroma."""

    def __init__(
        self,
        dense: DenseIndex | None,
        embedder: Embedder | None,
        *,
        snapshot_root: Path | None = None,
    ) -> None:
        super().__init__(dense, snapshot_root=snapshot_root)
        self.embedder = embedder

    def _dense_search(self, vector: np.ndarray, flt: Filter) -> list[DenseHit]:
        """Exact over the allowed rows when they are few; Chroma's HNSW when they are many."""
        assert self.dense is not None
        hits = self.vectors.search(vector, DEPTH, flt, limit=EXACT_LIMIT)
        if hits is None:
            hits = self.dense.search(vector, DEPTH, chroma_where(flt))
        return hits

    # -- searching -------------------------------------------------------------------------

    def search(
        self,
        session: Session,
        actor: User,
        question: str,
        shape: QuestionShape,
        *,
        customer_id: int | None = None,
        k: int = 10,
        unweighed: frozenset[str] = frozenset(),
    ) -> SearchResult:
        """Notes for `question` among those `actor` may see, best first.

        `unweighed` are terms BM25 leaves out when the search keeps to one customer: its own
        name tells its notes nothing apart, and across languages it was all BM25 could match,
        ranking the notes that repeat the name above the one the question is about.
        """
        self.sync(session)
        visible = visible_customers(session, actor)
        customers = visible
        if customer_id is not None:
            customers = (
                frozenset({customer_id})
                if visible is None or customer_id in visible
                else frozenset()
            )
        if customers is not None and not customers:
            return SearchResult([], False)
        flt = Filter(
            customers=customers,
            kinds=shape.kinds,
            since=_epoch(shape.since),
            until=_epoch(shape.until),
        )
        lexical = self.lexical.search(
            question, DEPTH, flt, drop=unweighed if customer_id is not None else frozenset()
        )
        dense_hits: list[DenseHit] = []
        dense_used = False
        vector: np.ndarray | None = None
        if self.dense is not None and self.embedder is not None:
            try:
                self.sync_vectors(session)
                vector = self.embedder.question(question)
                dense_hits = self._dense_search(vector, flt)
                dense_used = True
            except Exception as exc:
                # Answer from the lexical index alone rather than not at all.
                log.warning("dense search unavailable (%s)", type(exc).__name__)
        by_note: dict[int, NoteHit] = {}
        lex_order: list[int] = []
        for h in lexical:
            if h.interaction_id not in by_note:
                by_note[h.interaction_id] = NoteHit(h.interaction_id, 0.0, h.seq, h.score)
                by_note[h.interaction_id].lexical_rank = len(lex_order) + 1
                lex_order.append(h.interaction_id)
        dense_order: list[int] = []
        for d in dense_hits:
            hit = by_note.setdefault(d.interaction_id, NoteHit(d.interaction_id, 0.0, d.seq))
            if hit.dense is None:
                hit.dense = d.similarity
                hit.dense_rank = len(dense_order) + 1
                if hit.lexical_rank is None:
                    hit.seq = d.seq
                dense_order.append(d.interaction_id)
        # The question's words in the other language (retrieval.glossary): a note in that
        # language shares none of its own, and the vectors order one customer's notes in it
        # poorly. Only within one customer's notes: over a whole book the glossary's general
        # words (价格 for "price", 温度 for "temp") are in every customer's notes and rank
        # them above the one the vectors found by its name.
        glossed = (
            [t for t in translated(question) if t not in unweighed]
            if customer_id is not None
            else []
        )
        across_order: list[int] = []
        found = self.lexical.search_terms(glossed, DEPTH, flt) if glossed else []
        for h in found:
            # A note holding only the general words many of the customer's notes hold (经理 in
            # most notes for "the manager") is not told apart by them.
            if h.score < _WORDS_SHARE * found[0].score:
                break
            if h.interaction_id not in across_order:
                across_order.append(h.interaction_id)
                # Found by the translated words alone: the passage they matched is its own.
                by_note.setdefault(h.interaction_id, NoteHit(h.interaction_id, 0.0, h.seq))
        fused = rrf([lex_order, dense_order])
        # The indexes may lag a change by a moment: keep only notes that are live and visible now.
        openings = _live_visible(session, list(by_note), customers)
        fused = _cross_language(fused, by_note, openings, question, across_order)
        hits = []
        for iid, score in fused:
            if iid in openings:
                by_note[iid].score = score
                hits.append(by_note[iid])
        notes = _load_notes(session, [h.interaction_id for h in hits[: max(k, 1)]])
        sims = [h.similarity for h in dense_hits]
        return SearchResult(
            # A note removed between the two reads is left out.
            [h for h in hits[: max(k, 1)] if h.interaction_id in notes],
            dense_used,
            dense_best=max(sims) if sims else None,
            dense_median=float(np.median(sims)) if sims else None,
            notes=notes,
            vector=vector,
            filter=flt,
        )

    def latest(
        self,
        session: Session,
        actor: User,
        shape: QuestionShape,
        *,
        customer_id: int | None,
        k: int,
    ) -> SearchResult:
        """The newest (or oldest) notes under the question's filters, when it names no topic."""
        visible = visible_customers(session, actor)
        q = select(Interaction).where(Interaction.deleted_at.is_(None))
        if visible is not None:
            q = q.where(Interaction.customer_id.in_(visible_customer_ids(actor)))
        if customer_id is not None:
            q = q.where(Interaction.customer_id == customer_id)
        if shape.kinds:
            q = q.where(Interaction.kind.in_(sorted(shape.kinds)))
        if shape.since is not None:
            q = q.where(Interaction.occurred_at >= shape.since)
        if shape.until is not None:
            q = q.where(Interaction.occurred_at < shape.until)
        order = Interaction.occurred_at.asc() if shape.earliest else Interaction.occurred_at.desc()
        notes = list(session.scalars(q.order_by(order, Interaction.id.desc()).limit(k)))
        hits = [NoteHit(n.id, 1.0 / (60 + i + 1)) for i, n in enumerate(notes)]
        return SearchResult(hits, False, notes={n.id: n for n in notes})


def _script(text: str) -> str:
    """ "zh" when Chinese characters make up a good part of the letters, else "en"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    return "zh" if sum(1 for ch in letters if has_cjk(ch)) * 3 >= len(letters) else "en"


def _cross_language(
    fused: list[tuple[int, float]],
    by_note: dict[int, NoteHit],
    openings: dict[int, str],
    question: str,
    translated: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """A note in the other language than the question cannot match it word for word: BM25's
    silence says nothing there. Its place among the other language's notes stands for the
    lexical list: by the vectors, fused with its place by the question's words translated
    (`translated`: BM25 over the glossary's terms) where those found it. The model scores a
    question's own language higher (an English question's best Chinese note ranked 30th to
    50th behind English ones), and alone it orders that language's notes poorly (the note on a
    second-hand machine came last of a customer's six for a question about the used one).
    """
    asked = _script(question)

    def other(iid: int) -> bool:
        return iid in openings and _script(openings[iid]) != asked

    by_vectors = [
        iid
        for iid in sorted(
            (i for i, h in by_note.items() if h.dense_rank is not None),
            key=lambda i: by_note[i].dense_rank or 0,
        )
        if other(iid)
    ]
    by_words = [iid for iid in translated if other(iid)]
    # Its place by the vectors and by the translated words fused. Not the words first: over
    # a whole book the glossary's general words (温度 for "temp") rank every customer's notes
    # that say them above the one the vectors found. Never a ranking of its own beside the
    # two: a note in the other language would then outrank one that both the question's own
    # words and the vectors put first.
    across = [iid for iid, _ in rrf([by_vectors, by_words])] if by_words else by_vectors
    place = {iid: rank for rank, iid in enumerate(across, start=1)}
    out = []
    for iid, score in fused:
        hit = by_note.get(iid)
        if hit and hit.lexical_rank is None and iid in place:
            score = sum(1.0 / (RRF_K + r) for r in (hit.dense_rank, place[iid]) if r)
        out.append((iid, score))
    # A note only the translated words found is a candidate too.
    seen = {iid for iid, _ in fused}
    out += [(iid, 1.0 / (RRF_K + place[iid])) for iid in by_words if iid not in seen]
    return sorted(out, key=lambda kv: -kv[1])


def _live_visible(
    session: Session, ids: list[int], customers: frozenset[int] | None
) -> dict[int, str]:
    """The notes among `ids` still live and visible, with the opening of each (its language)."""
    if not ids:
        return {}
    q = select(Interaction.id, Interaction.customer_id, func.substr(Interaction.text, 1, 300))
    q = q.where(Interaction.id.in_([i for i in ids if i > 0]), Interaction.deleted_at.is_(None))
    out = {
        iid: opening
        for iid, customer, opening in session.execute(q)
        if customers is None or customer in customers
    }
    # Tickets (negative keys) are visible as their customer is, like the notes.
    tickets = [-i for i in ids if i < 0]
    if tickets:
        tq = select(Ticket.id, Ticket.customer_id, Ticket.subject).where(Ticket.id.in_(tickets))
        out.update(
            {
                -tid: subject[:300]
                for tid, customer, subject in session.execute(tq)
                if customers is None or customer in customers
            }
        )
    return out


def _load_notes(session: Session, ids: list[int]) -> dict[int, Cited]:
    """The notes (and tickets) an answer shows, with the customer and author each names."""
    if not ids:
        return {}
    q = (
        select(Interaction)
        .where(Interaction.id.in_([i for i in ids if i > 0]), Interaction.deleted_at.is_(None))
        .options(selectinload(Interaction.customer), selectinload(Interaction.author))
    )
    out: dict[int, Cited] = {n.id: n for n in session.scalars(q)}
    out.update(cited_tickets(session, ids))
    return out
