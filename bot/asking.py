"""`crmbot ask` and `crmbot eval-retrieval`: questions from scripts, and retrieval quality."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.bootstrap import App, build
from crm_core import db, rules
from crm_core.access import customer_filter, visible_customer_ids
from crm_core.context import Ctx
from crm_core.errors import CrmError
from crm_core.models import Customer, Interaction, User
from crm_core.resolve import find_user, resolve_customer
from crm_core.settings import Settings
from handlers.i18n import Translator
from handlers.verbs.ask import answer_text
from retrieval.ask import MAX_QUESTION, Answer, Source
from retrieval.notes import TicketNote


class AskInputError(ValueError):
    """A question line that cannot be asked; the message says what is wrong."""


def _ext(external_id: str | None, rid: int) -> str | int:
    return external_id if external_id else rid


def source_json(src: Source) -> dict[str, Any]:
    """A source as the command-line contract prints it."""
    note = src.note
    # A ticket is named as one ("ticket": its external id or number), a note as an interaction.
    cited = (
        {"ticket": _ext(note.external_id, note.ticket_id)}
        if isinstance(note, TicketNote)
        else {"interaction": _ext(note.external_id, note.id)}
    )
    return {
        **cited,
        "customer": _ext(note.customer.external_id, note.customer_id),
        "occurred_at": note.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "author": _ext(note.author.external_id, note.author_id),
        "kind": str(note.kind),
        "score": round(src.score, 6),
    }


def answer_json(answer: Answer, t: Translator) -> dict[str, Any]:
    """`{"answer", "sources", ...}`: sources are what the answer rests on, best first."""
    return {
        "answer": answer_text(t, answer),
        "answered": answer.answered,
        "sources": [source_json(s) for s in answer.sources],
        "closest": [source_json(s) for s in answer.closest],
    }


def _customer(ctx: Ctx, ref: str | None) -> Customer | None:
    if ref is None or not str(ref).strip():
        return None
    ref = str(ref).strip()
    # Only the asker's own book is searched: an external id of someone else's customer is
    # then just a name that matches nothing, answered as for one that never existed.
    by_ext = ctx.session.scalar(
        select(Customer).where(Customer.external_id == ref, customer_filter(ctx.actor))
    )
    if by_ext is not None:
        return by_ext
    return resolve_customer(ctx, ref)


def _actor(session: Session, ref: str) -> User:
    by_ext = session.scalar(select(User).where(User.external_id == ref))
    return by_ext if by_ext is not None else find_user(session, ref)


def ask_one(
    app: App,
    asker_ref: str,
    customer_ref: str | None,
    question: str,
    *,
    now: datetime | None = None,
) -> tuple[Answer, Translator]:
    """Answer one question as a user; CrmError when the user or customer is unknown."""
    # Arguments that were not UTF-8 arrive as lone surrogates; refuse them before any lookup.
    rules.readable("question", question)
    if customer_ref is not None:
        rules.readable("customer", customer_ref)
    question = question.strip()
    if not question:
        raise AskInputError("the question is empty")
    if len(question) > MAX_QUESTION:
        raise AskInputError(f"the question is longer than {MAX_QUESTION} characters")
    index = app.notes()
    index.catch_up()
    with db.unit_of_work(app.session_factory) as session:
        actor = _actor(session, asker_ref)
        clock = (lambda: now) if now is not None else app.dispatcher.clock
        ctx = app.dispatcher.context(session, actor, clock=clock)
        customer = _customer(ctx, customer_ref)
        answer = index.asker.ask(ctx, question, customer)
        answer.behind = index.behind()
        # Everything the caller prints is read here, while the session is open.
        for s in [*answer.sources, *answer.closest]:
            _ = (s.note.customer.external_id, s.note.author.external_id)
        return answer, Translator(actor.locale)


def batch_lines(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parsed question lines; AskInputError names the bad line."""
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AskInputError(f"line {n}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise AskInputError(f"line {n}: expected an object with id, asker, customer, question")
        missing = [k for k in ("id", "asker", "question") if k not in item]
        if missing:
            raise AskInputError(f"line {n}: missing {', '.join(missing)}")
        yield n, item


# -- evaluation ------------------------------------------------------------------------------


@dataclass
class _Tally:
    n: int = 0
    hits: dict[int, float] = field(default_factory=lambda: {1: 0.0, 5: 0.0, 10: 0.0})
    rr: float = 0.0
    answerable: int = 0
    empty: int = 0
    empty_right: int = 0
    answered_right: int = 0
    right: int = 0
    keywords: int = 0

    def figures(self) -> dict[str, Any]:
        a = self.answerable or 1
        return {
            "questions": self.n,
            "answerable": self.answerable,
            "recall@1": round(self.hits[1] / a, 3) if self.answerable else None,
            "recall@5": round(self.hits[5] / a, 3) if self.answerable else None,
            "recall@10": round(self.hits[10] / a, 3) if self.answerable else None,
            "mrr": round(self.rr / a, 3) if self.answerable else None,
            "answered_when_answerable": round(self.answered_right / a, 3)
            if self.answerable
            else None,
            "answered_and_right": round(self.right / a, 3) if self.answerable else None,
            "keywords_in_answer": round(self.keywords / a, 3) if self.answerable else None,
            "no_answer_questions": self.empty,
            "no_answer_accuracy": round(self.empty_right / self.empty, 3) if self.empty else None,
        }


def _visible_ids(session: Session, user: User) -> set[int]:
    return set(session.scalars(visible_customer_ids(user)))


@contextlib.contextmanager
def eval_book(
    data: Path, *, now: datetime | None = None, settings: Settings | None = None
) -> Iterator[tuple[App, datetime, tuple[int, int, float]]]:
    """DATA imported into a temporary database and indexed: the app, "now", and index figures."""
    from crm_core.exchange import import_jsonl

    with tempfile.TemporaryDirectory(prefix="crmbot-eval-") as tmp:
        base = settings or Settings(_env_file=None)  # type: ignore[call-arg]
        cfg = base.model_copy(
            update={
                "data_dir": Path(tmp),
                "database_url": None,
                "index_dir": Path(tmp) / "index",
                "chroma_url": None,
                "llm": None,
            }
        )
        engine = db.make_engine(cfg.resolved_database_url())
        db.upgrade(engine)
        app = build(cfg)
        with db.unit_of_work(app.session_factory) as session, data.open(encoding="utf-8") as f:
            import_jsonl(session, f, stages=app.pipeline.stages)
        with db.unit_of_work(app.session_factory) as session:
            last = session.scalar(select(func.max(Interaction.occurred_at)))
        # Questions say "last month" or "since September": they are read as of the day after
        # the newest note unless told otherwise, so the figures do not drift with the calendar.
        if now is not None:
            moment = now
        elif last is not None:
            moment = last.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        else:
            moment = datetime.now(UTC)
        figures = app.notes().indexer.reindex()
        try:
            yield app, moment, figures
        finally:
            engine.dispose()


def evaluate(
    data: Path, questions: Path, *, now: datetime | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """Import DATA into a temporary database and index, ask every question, score the answers."""
    items = [item for _, item in batch_lines(questions.read_text(encoding="utf-8").splitlines())]
    with eval_book(data, now=now, settings=settings) as (app, moment, figures):
        notes, passages, seconds = figures
        report = score(app, items, moment)
    return {
        "notes": notes,
        "passages": passages,
        "index_seconds": round(seconds, 2),
        "now": moment.isoformat(),
        **report,
    }


def score(app: App, items: list[dict[str, Any]], moment: datetime) -> dict[str, Any]:
    """Ask every labelled question and score rankings, answers and refusals."""
    overall = _Tally()
    by_kind: defaultdict[str, _Tally] = defaultdict(_Tally)
    leaks = 0
    results = []
    for item in items:
        try:
            answer, t = ask_one(
                app, str(item["asker"]), item.get("customer"), str(item["question"]), now=moment
            )
        except CrmError:
            # A customer the asker may not see reads as unknown: no answer, nothing shown.
            answer, t = Answer(False), Translator("en")
        with db.unit_of_work(app.session_factory) as session:
            asker = _actor(session, str(item["asker"]))
            allowed = _visible_ids(session, asker)
        # Retrieval is scored on the ranking; whether it answered is scored separately.
        got = [s.note for s in (answer.sources or answer.closest)]
        shown = [s.note for s in answer.sources] + [s.note for s in answer.closest]
        leaks += sum(1 for n in shown if n.customer_id not in allowed)
        ranked = [n.external_id or str(n.id) for n in got]
        gold = [str(g) for g in item.get("gold") or []]
        text = answer_text(t, answer)
        # Answered and right: answered, and a gold note among the first five sources.
        right = answer.answered and bool(set(ranked[:5]) & set(gold))
        for tally in (overall, by_kind[str(item.get("kind") or "unlabelled")]):
            tally.n += 1
            if gold:
                tally.answerable += 1
                first = next((i for i, r in enumerate(ranked) if r in gold), None)
                for k in (1, 5, 10):
                    tally.hits[k] += len(set(ranked[:k]) & set(gold)) / len(gold)
                tally.rr += 0 if first is None else 1 / (first + 1)
                tally.answered_right += int(answer.answered)
                tally.right += int(right)
                words = item.get("answer_keywords") or []
                tally.keywords += int(bool(words) and all(w.lower() in text.lower() for w in words))
            else:
                tally.empty += 1
                tally.empty_right += int(not answer.answered)
        ev = answer.evidence
        results.append(
            {
                "id": item["id"],
                "kind": item.get("kind"),
                "gold": gold,
                "got": ranked[:10],
                "answered": answer.answered,
                "evidence": None if ev is None else dataclasses.asdict(ev),
            }
        )
    return {
        "overall": overall.figures(),
        "by_kind": {k: v.figures() for k, v in sorted(by_kind.items())},
        "permission_leaks": leaks,
        "results": results,
    }


def ask_error(exc: CrmError) -> str:
    """A service error as one English line."""
    return Translator("en")(exc.key, **exc.params)
