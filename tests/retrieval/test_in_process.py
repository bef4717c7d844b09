"""The indexes a serving process holds: saved and reloaded, kept current, exact vs HNSW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.settings import Settings
from retrieval.embedders import Embedder
from retrieval.lexical import Filter
from retrieval.question import QuestionShape
from retrieval.runtime import NoteIndex, open_index
from retrieval.search import NoteSearch, chroma_where
from retrieval.store import NoteMeta, StoredPassage
from retrieval.vectors import VectorTable
from tests.conftest import TestBot
from tests.retrieval.conftest import log_note


def _open(testbot: TestBot, embedder: Embedder, data_dir: Path) -> NoteIndex:
    """A fresh process's view of the same database and index directory."""
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    return open_index(settings, testbot.session_factory, embedder=embedder)


def _search(
    testbot: TestBot, search: NoteSearch, who: str, question: str, customer: int | None = None
) -> list[int]:
    with unit_of_work(testbot.session_factory) as s:
        actor = s.get_one(User, testbot.users[who])
        found = search.search(s, actor, question, QuestionShape(), customer_id=customer)
        return [h.interaction_id for h in found.hits]


def test_a_restarted_process_loads_its_snapshots_and_catches_up(
    testbot: TestBot, book: dict[str, int], embedder: Embedder, tmp_path: Path
) -> None:
    first = _open(testbot, embedder, tmp_path / "d")
    first.indexer.drain()
    before = _search(testbot, first.search, "alice", "discount on the renewal")
    assert before[0] == book["pricing_new"]
    assert first.search.lexical_origin == "database"
    assert first.search.vectors_origin == "store"
    # While no process runs: a new note, a deleted one.
    new = log_note(testbot, "alice", "log call Acme: Dana asked about a loyalty discount.")
    testbot("alice", f"undo #{book['pricing_new']}")
    first.indexer.drain()
    second = _open(testbot, embedder, tmp_path / "d")
    after = _search(testbot, second.search, "alice", "discount on the renewal")
    assert second.search.lexical_origin == "snapshot"
    assert second.search.vectors_origin == "snapshot"
    assert new in after and book["pricing_new"] not in after
    assert second.search.vectors.size == second.dense.count()
    assert second.search.lexical.live_notes() == len(book)  # 6 logged, 1 new, 1 undone


def test_a_snapshot_of_another_database_is_not_used(
    testbot: TestBot, book: dict[str, int], embedder: Embedder, tmp_path: Path
) -> None:
    first = _open(testbot, embedder, tmp_path / "d")
    first.indexer.drain()
    _search(testbot, first.search, "alice", "discount")
    # The snapshot says it was taken of another database: a new process must not trust it.
    meta = tmp_path / "d" / "index" / "snapshots" / "lexical"
    current = meta / (meta / "current").read_text()
    text = (current / "meta.json").read_text()
    (current / "meta.json").write_text(text.replace('"database": "', '"database": "x'))
    second = _open(testbot, embedder, tmp_path / "d")
    assert _search(testbot, second.search, "alice", "discount")[0] == book["pricing_new"]
    assert second.search.lexical_origin == "database"


def test_exact_search_and_chroma_agree_inside_the_filter(
    testbot: TestBot, book: dict[str, int], embedder: Embedder, tmp_path: Path
) -> None:
    index = _open(testbot, embedder, tmp_path / "d")
    index.indexer.drain()
    search = index.search
    with unit_of_work(testbot.session_factory) as s:
        search.sync_vectors(s)
    vector = embedder.question("what discount did they want?")
    alice_book = {book[k] for k in ("pricing_old", "pricing_new", "security", "visit", "zh")}
    for flt in (
        Filter(),
        Filter(customers=frozenset({1, 2})),
        Filter(kinds=frozenset({"call"})),
        Filter(customers=frozenset({1}), since=0, until=2_000_000_000),
    ):
        exact = search.vectors.search(vector, 10, flt)
        hnsw = index.dense.search(vector, 10, chroma_where(flt))
        assert [(h.interaction_id, h.seq) for h in exact] == [
            (h.interaction_id, h.seq) for h in hnsw
        ]
        assert np.allclose([h.similarity for h in exact], [h.similarity for h in hnsw], atol=2e-3)
    # The other book's note is never a candidate of alice's filter, on either path.
    alice = Filter(customers=frozenset({1, 2}))
    assert {h.interaction_id for h in search.vectors.search(vector, 50, alice)} <= alice_book
    assert {
        h.interaction_id for h in index.dense.search(vector, 50, chroma_where(alice))
    } <= alice_book


def test_large_sets_go_to_chroma_small_ones_stay_exact(
    testbot: TestBot,
    book: dict[str, int],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = _open(testbot, embedder, tmp_path / "d")
    index.indexer.drain()
    calls: list[str] = []
    real = index.dense.search

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append("chroma")
        return real(*args, **kw)

    monkeypatch.setattr(index.dense, "search", counting)
    assert _search(testbot, index.search, "alice", "discount")[0] == book["pricing_new"]
    assert calls == []
    monkeypatch.setattr("retrieval.search.EXACT_LIMIT", 2)
    assert _search(testbot, index.search, "alice", "discount")[0] == book["pricing_new"]
    assert calls == ["chroma"]


def test_vectors_follow_the_indexer_and_fold(
    testbot: TestBot,
    book: dict[str, int],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = _open(testbot, embedder, tmp_path / "d")
    index.indexer.drain()
    search = index.search
    _search(testbot, search, "alice", "warehouse")
    monkeypatch.setattr("retrieval.vectors.FOLD_LIMIT", 1)
    # Logged but not yet indexed: the vectors do not have it; indexed: they do.
    new = log_note(testbot, "alice", "log visit Acme: the forklift fleet doubles next spring")
    other = log_note(testbot, "alice", "log call Acme: budget approved for the first quarter")
    _search(testbot, search, "alice", "forklifts")
    assert new not in {h.interaction_id for h in search.vectors.search(_q(embedder), 50, Filter())}
    index.indexer.drain()
    _search(testbot, search, "alice", "forklifts")
    found = search.vectors.search(_q(embedder), 50, Filter())
    assert {new, other} <= {h.interaction_id for h in found}
    assert search.vectors.folds >= 1  # fresh notes went over the (patched) limit
    testbot("alice", f"undo #{book['visit']}")
    testbot("alice", f"undo #{new}")
    index.indexer.drain()
    _search(testbot, search, "alice", "forklifts")
    left = {h.interaction_id for h in search.vectors.search(_q(embedder), 50, Filter())}
    assert left == set(book.values()) - {book["visit"]} | {other}
    assert search.vectors.size == index.dense.count()


def _q(embedder: Embedder) -> np.ndarray:
    return embedder.question("forklifts in the warehouse")


def test_vector_table_filters_by_kind_time_and_customer() -> None:
    table = VectorTable()
    rng = np.random.default_rng(3)
    stored = [
        StoredPassage(i, 0, NoteMeta(customer_id=i % 3, author_id=1, kind=k, occurred_at=100 * i))
        for i, k in enumerate(["call", "visit", "email", "call", "visit", "call"], start=1)
    ]
    vectors = rng.normal(size=(6, 8)).astype(np.float32)
    # Read in pages, more rows than the store said it had (a note written meanwhile).
    table.load([(stored[:2], vectors[:2]), (stored[2:], vectors[2:])], expected=1)
    assert table.size == 6
    q = vectors[0]
    assert table.search(q, 1, Filter())[0].interaction_id == 1
    assert {h.interaction_id for h in table.search(q, 9, Filter(kinds=frozenset({"call"})))} == {
        1,
        4,
        6,
    }
    window = Filter(since=200, until=500)
    assert {h.interaction_id for h in table.search(q, 9, window)} == {2, 3, 4}
    assert {h.interaction_id for h in table.search(q, 9, Filter(customers=frozenset({0})))} == {
        3,
        6,
    }
    assert table.search(q, 9, Filter(kinds=frozenset({"meeting"}))) == []
    one = Filter(customers=frozenset({1}))
    assert len(table.search(q, 9, one, limit=2) or []) == 2
    assert table.search(q, 9, one, limit=1) is None  # more rows than the limit: not exact


def test_notes_indexed_before_the_load_are_not_fetched_again(
    testbot: TestBot,
    book: dict[str, int],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reindex marks thousands of rows done at once: the load has them, the tail skips them."""
    index = _open(testbot, embedder, tmp_path / "d")
    index.indexer.reindex()  # every outbox row marked done in one statement
    fetched: list[list[int]] = []
    real = index.dense.vectors_of

    def spy(ids: list[int]):  # type: ignore[no-untyped-def]
        fetched.append(list(ids))
        return real(ids)

    monkeypatch.setattr(index.dense, "vectors_of", spy)
    _search(testbot, index.search, "alice", "discount")
    _search(testbot, index.search, "alice", "discount")
    assert fetched == [] and index.search.vectors.size == len(book)
    new = log_note(testbot, "alice", "log call Acme: asked for the SOC 2 bridge letter")
    index.indexer.drain()
    _search(testbot, index.search, "alice", "bridge letter")
    _search(testbot, index.search, "alice", "bridge letter")
    assert fetched == [[new]]


def test_a_big_book_builds_its_lexical_index_in_a_child_process(
    testbot: TestBot,
    book: dict[str, int],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the threshold the build runs in a child; the process maps what the child saved."""
    monkeypatch.setattr("retrieval.in_process.CHILD_BUILD_NOTES", 1)
    index = _open(testbot, embedder, tmp_path / "d")
    index.indexer.drain()
    found = _search(testbot, index.search, "alice", "discount on the renewal")
    assert index.search.lexical_origin == "child"
    assert found[0] == book["pricing_new"]
    assert index.search.lexical.live_notes() == len(book)
