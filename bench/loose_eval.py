"""Loose commands against a labelled set: intent, exact command, writes proposed by mistake.

Each phrasing runs through the real dispatcher on a fresh copy of the book (SQLite), as its
person, at the book's date. What the system did is read off what actually ran: a confirm
card's command, or the line a verb handler was called with (a read, or a grammar line run
as typed). Commands are compared as parsed structures (verb, resolved record ids, stage,
amounts, dates, kind, user), never as strings; free text (a note, a reminder's words, a
question) is left out of "exact" and reported apart.

    .venv/bin/python bench/loose_eval.py tests/data/loose_dev.jsonl
    .venv/bin/python bench/loose_eval.py tests/data/loose_heldout.jsonl --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_core.access import customer_filter  # noqa: E402
from crm_core.context import Ctx  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from crm_core.errors import CrmError  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, Deal, User  # noqa: E402
from crm_core.resolve import (  # noqa: E402
    find_user,
    resolve_any_contact,
    resolve_contact,
    resolve_customer,
    resolve_deal,
    user_by_handle,
)
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from crm_core.timephrases import read_time_phrase  # noqa: E402
from crm_core.when import parse_day, parse_when  # noqa: E402
from handlers.args import read_stage, take_ref  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.grammar import split_colon, split_commas, take_amount, take_keywords, take_kind  # noqa: E402
from handlers.loose import writes  # noqa: E402
from handlers.registry import Registry, Request, Verb  # noqa: E402
from handlers.reply import Command, Reply  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402
from handlers.verbs.deal_edit import EDIT_DEAL_ARGS  # noqa: E402
from handlers.verbs.deals import DEAL_KEYWORDS  # noqa: E402

BOOK_DATE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
BOOK = ROOT / "tests" / "data" / "loose_book.jsonl"
# Parts of a command that are a person's words, not a choice of record or value.
FREE = {"text", "what", "question", "reason", "title"}


@dataclasses.dataclass
class Ran:
    """What the system did with one phrasing."""

    reply: Reply
    # (line a verb handler ran, whether it writes, whether it returned rather than refused)
    lines: list[tuple[str, bool, bool]]

    @property
    def outcome(self) -> tuple[str, str | None]:
        """("write", command) for a card or a write run as typed, ("read", line), or none."""
        if self.reply.status == "confirm":
            return "write", self.reply.to_json().get("command")
        for line, wrote, returned in self.lines:
            if wrote and returned and self.reply.status in ("ok", "info"):
                return "write", line
        # A read that ran counts; one refused here (`ask` has no note index) counts when no
        # other read ran: the command chosen is what is measured.
        reads = [(line, returned) for line, wrote, returned in self.lines if not wrote]
        if reads:
            return "read", sorted(reads, key=lambda r: not r[1])[0][0]
        return "none", None


def book_database(workdir: Path, book: Path = BOOK) -> Path:
    """A migrated SQLite file holding the book."""
    path = workdir / "book.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session, book.open(encoding="utf-8") as f:
        import_jsonl(session, f, stages=DEFAULT_STAGES)
    engine.dispose()
    return path


def recording(registry: Registry, lines: list[tuple[str, bool, bool]]) -> Registry:
    """The registry with each handler noting the line it ran."""

    def wrap(verb: Verb) -> Verb:
        def handler(req: Request) -> Reply:
            # Only a handler that returned counts (a refused line raised); a write made in a
            # savepoint to check a card is undone, and the card is what is counted.
            try:
                reply = verb.handler(req)
            except CrmError:
                lines.append((req.text, writes(verb, req.args), False))
                raise
            lines.append((req.text, writes(verb, req.args), True))
            return reply

        return dataclasses.replace(verb, handler=handler)

    return Registry(wrap(v) for v in registry)


class Runner:
    """Runs phrasings on fresh copies of one book database."""

    def __init__(self, base: Path, workdir: Path) -> None:
        self.base = base
        self.workdir = workdir
        self.lines: list[tuple[str, bool, bool]] = []
        self.registry = recording(default_registry(), self.lines)
        self.pipeline = Pipeline(DEFAULT_STAGES)

    def run(self, who: str, text: str) -> Ran:
        """One phrasing as `who` on a fresh copy."""
        copy = self.workdir / "run.sqlite"
        shutil.copy(self.base, copy)
        engine = make_engine(f"sqlite:///{copy}")
        try:
            factory = make_session_factory(engine)
            dispatcher = Dispatcher(factory, self.registry, self.pipeline, clock=lambda: BOOK_DATE)
            with factory() as session:
                uid = session.scalar(select(User.id).where(User.external_id == who))
            assert uid is not None, who
            self.lines.clear()
            reply = dispatcher.dispatch(Command(uid, "cli", text=text))
            return Ran(reply, list(self.lines))
        finally:
            engine.dispose()

    def structure(self, who: str, line: str | None) -> dict[str, Any] | None:
        """The parsed structure of a grammar line, records resolved as `who` sees them."""
        if line is None:
            return None
        engine = make_engine(f"sqlite:///{self.base}")
        try:
            with make_session_factory(engine)() as session:
                user = session.scalar(select(User).where(User.external_id == who))
                assert user is not None
                ctx = Ctx(session, user, self.pipeline, "USD", lambda: BOOK_DATE)
                return structure(ctx, self.registry, line)
        finally:
            engine.dispose()


def _safe(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except CrmError:
        return None


def structure(ctx: Ctx, registry: Registry, line: str) -> dict[str, Any]:
    """Verb and arguments of a grammar line as comparable values (ids, stage, amount, day)."""
    found = registry.match(line)
    if found is None:
        return {"verb": None, "raw": line.strip().lower()}
    verb, args = found
    out: dict[str, Any] = {"verb": verb.name}
    name = verb.name

    def customer(q: str) -> Any:
        c = _safe(resolve_customer, ctx, q)
        return c.id if c is not None else q.strip().lower()

    def deal(q: str, cust: Customer | None = None, *, open_only: bool = False) -> Any:
        if " / " in q and cust is None:
            cq, q = (p.strip() for p in q.split(" / ", 1))
            cust = _safe(resolve_customer, ctx, cq)
        # As the verb reads it: `move` looks among open deals first.
        d = _safe(resolve_deal, ctx, q, customer=cust, open_only=open_only)
        return d.id if d is not None else q.strip().lower()

    def day(q: str) -> Any:
        d = parse_day(q, ctx.tz, ctx.now(), day_first=ctx.day_first)
        return d.isoformat() if d else q.strip().lower()

    def amount(q: str, deal_id: Any = None) -> Any:
        # No currency named: an edited deal keeps its own, as `edit deal` does.
        _, value, cur = take_amount(q)
        if cur is None and isinstance(deal_id, int):
            cur = ctx.session.scalar(select(Deal.currency).where(Deal.id == deal_id))
        shown = format(value.normalize(), "f") if value is not None else q
        return [shown, cur or "USD"]

    if name == "move":
        head, reason = split_colon(args)
        hits = list(re.finditer(r"\s+to\s+|\s*(?:到|至)\s*", head))
        if hits:
            out["deal"] = deal(head[: hits[-1].start()], open_only=True)
            out["stage"] = read_stage(ctx.pipeline, head[hits[-1].end() :])
        else:
            out["deal"] = deal(head, open_only=True)
        if reason:
            out["reason"] = reason.strip()
    elif name == "log":
        kind, rest = take_kind(args)
        out["kind"] = kind.value if kind else "note"
        head, text = split_colon(rest)
        parts = split_commas(head)
        cust = _safe(resolve_customer, ctx, parts[0]) if parts else None
        out["customer"] = cust.id if cust else (parts[0].lower() if parts else None)
        for part in parts[1:]:
            low = part.lower()
            if low.startswith(("deal ", "商机")):
                out["deal"] = deal(re.sub(r"^(deal\s+|商机\s*)", "", part, flags=re.I), cust)
            elif low.startswith(("with ", "contact ", "联系人", "联络人")):
                q = re.sub(r"^(with|contact|联系人|联络人)\s*", "", part, flags=re.I)
                c = _safe(resolve_contact, ctx, cust, q) if cust else None
                out["contact"] = c.id if c else q.lower()
            else:
                moment = parse_when(part, ctx.tz, ctx.now(), day_first=ctx.day_first)
                out["when"] = moment.astimezone(ctx.tz).date().isoformat() if moment else low
        out["text"] = (text or "").strip()
    elif name == "remind":
        m = re.match(r"^(me|myself|我)\s*|^@?(\S+)\s*", args, re.I)
        who = "me"
        rest = args
        if m and m.group(2) and not m.group(0).startswith("@"):
            # A bare handle names the person only when it is one (`remind carol friday`).
            m = m if user_by_handle(ctx, m.group(2)) is not None else None
        if m:
            if m.group(2):
                u = _safe(find_user, ctx.session, m.group(2))
                who = u.external_id if u else m.group(2)
                if who == ctx.actor.external_id:
                    who = "me"
            rest = args[m.end() :]
        out["who"] = who
        phrase = read_time_phrase(rest, ctx.now(), ctx.tz, day_first=ctx.day_first)
        out["due"] = phrase.due.isoformat() if phrase else None
        out["what"] = phrase.rest.strip() if phrase else rest
    elif name == "new deal":
        head, body = split_colon(args)
        out["customer"] = customer(head)
        lead, opts = take_keywords(body or "", DEAL_KEYWORDS)
        title, value, cur = take_amount(lead)
        out["title"] = title.strip('"“” ')
        if value is not None:
            out["amount"] = [format(value.normalize(), "f"), cur or "USD"]
        if "close" in opts:
            out["close"] = day(opts["close"])
        if "stage" in opts:
            out["stage"] = read_stage(ctx.pipeline, opts["stage"])
    elif name == "edit deal":
        head, body = split_colon(args)
        out["deal"] = deal(head)
        words = {w: a.name for a in EDIT_DEAL_ARGS for w in a.words}
        for part in split_commas(body or ""):
            low = part.lower()
            key = next(
                (words[w] for w in sorted(words, key=len, reverse=True) if low.startswith(w)), None
            )
            if key is None:
                continue
            value = part[
                len(next(w for w in sorted(words, key=len, reverse=True) if low.startswith(w))) :
            ].strip(" :：")
            out[key] = (
                amount(value, out["deal"])
                if key == "amount"
                else day(value)
                if key == "close"
                else value.lower()
            )
    elif name == "history" and re.match(r"(?:deal|contact)\s", args):
        # `history deal Acme / ERP ...`, `history contact Acme / Dana`: the record, resolved.
        record, rest = args.split(None, 1)
        out["record"] = record
        if record == "deal":
            out["deal"] = deal(rest)
        else:
            head = rest.strip()
            if " / " in head:
                cq, pq = (p.strip() for p in head.split(" / ", 1))
                cust = _safe(resolve_customer, ctx, cq)
                c = _safe(resolve_contact, ctx, cust, pq) if cust is not None else None
            else:
                c = _safe(resolve_any_contact, ctx, head)
            out["contact"] = c.id if c else head.lower()
    elif name in ("customer", "deals", "history", "unarchive", "archive"):
        out["customer"] = customer(args) if args else None
    elif name in ("deal", "delete deal"):
        out["deal"] = deal(re.sub(r"\s+confirm$", "", args))
    elif name == "edit customer":
        head, body = split_colon(args)
        out["customer"] = customer(head)
        out["body"] = re.sub(r"\s+", " ", (body or "").lower())
    elif name == "ask":
        head, question = split_colon(args)
        c = _safe(resolve_customer, ctx, head) if question else None
        out["customer"] = c.id if c else None
        out["question"] = (question if c else args).strip()
    elif name == "new customer":
        lead, opts = take_keywords(
            args,
            {
                "industry": "industry",
                "city": "city",
                "owner": "owner",
                "tags": "tags",
                "行业": "industry",
                "城市": "city",
            },
        )
        out["name"] = lead.lower()
        out.update({k: v.lower() for k, v in opts.items()})
    elif name == "contact add":
        head, body = split_colon(args)
        out["customer"] = customer(head)
        at = re.match(r"(?:at|for|to|in|sa|@)\s*(\S.*)$", head.strip(), re.I)
        if not isinstance(out["customer"], int) and at:
            # As the verb reads it: "add contact at Ironwood: ..." names Ironwood.
            out["customer"] = customer(at.group(1))
        parts = split_commas(body or "")
        out["name"] = parts[0].lower() if parts else ""
        for p in parts[1:]:
            if "@" in p:
                out["email"] = p.lower()
            elif re.search(r"\d{5,}", p.replace(" ", "")):
                out["phone"] = re.sub(r"\D", "", p)
    elif name == "reassign":
        m = re.match(r"^(.*?)\s+(?:to|给)\s+@?(\S+)(.*)$", args)
        if m:
            out["customer"] = customer(m.group(1))
            u = _safe(find_user, ctx.session, m.group(2))
            out["owner"] = u.external_id if u else m.group(2)
            out["deals"] = "deals" in m.group(3)
    elif name == "ticket" and not re.match(r"#?\d+\s*$", args.strip()):
        # `ticket Acme: subject, priority high`: the customer resolved, the subject free text.
        head, body = split_colon(args)
        out["customer"] = customer(head)
        m = re.search(r",\s*priority\s+(\w+)\s*$", body or "")
        out["priority"] = m.group(1).lower() if m else None
        out["text"] = (body or "")[: m.start()].strip() if m else (body or "").strip()
    elif name == "feedback":
        # `feedback Acme: nps 9, "fast fix"`: the customer (or #ticket) and the score; the
        # comment is free text.
        head, body = split_colon(args)
        out["customer"] = customer(head)
        score, _, comment = (body or "").partition(",")
        out["score"] = re.sub(r"\s+", " ", score.strip().lower())
        out["text"] = comment.strip().strip('"“” ')
    elif name in ("reply", "resolve"):
        ref, rest = take_ref(args)
        out["ref"] = ref
        out["text"] = rest.lstrip(":： ").strip()
    elif name == "assign":
        ref, rest = take_ref(args)
        out["ref"] = ref
        m = re.match(r"(?:to|给)\s+@?(\S+)", rest.strip())
        said = m.group(1) if m else rest.strip()
        u = None if said.lower() in ("me", "我") else _safe(find_user, ctx.session, said)
        out["user"] = (
            ctx.actor.external_id
            if u is None and said.lower() in ("me", "我")
            else (u.external_id if u else said.lower())
        )
    elif name in ("done", "snooze", "cancel", "undo", "note"):
        ref, rest = take_ref(args)
        out["ref"] = ref
        if rest:
            out["rest"] = rest.lower()
    elif name == "edit contact":
        head, body = split_colon(args)
        if " / " in head:
            # `Acme / Dana`: a contact of that customer, as the verb reads it.
            cq, pq = (p.strip() for p in head.split(" / ", 1))
            cust = _safe(resolve_customer, ctx, cq)
            c = _safe(resolve_contact, ctx, cust, pq) if cust is not None else None
        else:
            c = _safe(resolve_any_contact, ctx, head)
        out["contact"] = c.id if c else head.lower()
        out["body"] = (body or "").lower()
    else:
        said = re.sub(r"\s+", " ", args.strip().lower())
        if name in ("win rate", "forecast", "funnel", "chart", "report"):
            # "this year" and "2026" are the same period to these verbs (the book's date).
            year = ctx.now().year
            said = re.sub(r"\bthis year\b", str(year), said)
            said = re.sub(r"\blast year\b", str(year - 1), said)
        out["args"] = said
    return out


def exact(got: dict[str, Any] | None, want: dict[str, Any] | None) -> bool:
    """The same command apart from free text."""
    if got is None or want is None:
        return got is want
    keys = (set(got) | set(want)) - FREE
    return all(got.get(k) == want.get(k) for k in keys)


def _hidden_names(runner: Runner, who: str) -> list[str]:
    """Names of customers `who` may not see (that a reply must never show)."""
    engine = make_engine(f"sqlite:///{runner.base}")
    try:
        with make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.external_id == who))
            assert user is not None
            visible = set(session.scalars(select(Customer.id).where(customer_filter(user))))
            return [c.name for c in session.scalars(select(Customer)) if c.id not in visible]
    finally:
        engine.dispose()


def items(path: Path) -> Iterator[dict[str, Any]]:
    """The labelled phrasings of a set."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def evaluate(path: Path, *, book: Path = BOOK, verbose: bool = False) -> dict[str, Any]:
    """Run every phrasing of `path`; the figures, and one row per phrasing."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        runner = Runner(book_database(workdir, book), workdir)
        rows = []
        hidden_cache: dict[str, list[str]] = {}
        for item in items(path):
            ran = runner.run(item["as"], item["text"])
            kind, line = ran.outcome
            got = runner.structure(item["as"], line)
            want = runner.structure(item["as"], item.get("command"))
            expected = item["kind"]
            row: dict[str, Any] = {
                "id": item["id"],
                "lang": item.get("lang"),
                "kind": expected,
                "got_kind": kind,
                "status": ran.reply.status,
                "command": line,
                "expected": item.get("command"),
                "exact": exact(got, want) if expected in ("write", "read") else None,
                "text_same": None,
            }
            if expected in ("write", "read") and got and want:
                free_got = {k: got.get(k) for k in FREE if k in got or k in want}
                free_want = {k: want.get(k) for k in FREE if k in got or k in want}
                row["text_same"] = _similar(free_got, free_want)
            if expected == "hidden":
                names = hidden_cache.setdefault(item["as"], _hidden_names(runner, item["as"]))
                shown = json.dumps(ran.reply.to_json(), ensure_ascii=False).casefold()
                # A name the person typed may be echoed ("no customer Sterling Care"), as
                # for one that does not exist; any other is a leak.
                typed = item["text"].casefold()
                leaked = [n for n in names if n.casefold() in shown and n.casefold() not in typed]
                # No card for anything (a guessed record of the person's own), no name of
                # the hidden record anywhere in the answer.
                row["hidden_ok"] = ran.reply.status != "confirm" and not leaked
                row["leaked"] = leaked
            rows.append(row)
            if verbose:
                print(json.dumps(row, ensure_ascii=False))
    return {"figures": figures(rows), "rows": rows}


def _similar(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def norm(v: Any) -> str:
        return re.sub(r"[\W_]+", " ", str(v or "").casefold()).strip()

    return all(norm(a.get(k)) == norm(b.get(k)) for k in set(a) | set(b))


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Intent accuracy, exact command accuracy, wrong writes, hidden-customer answers."""

    def intent_ok(r: dict[str, Any]) -> bool:
        want = {"write": "write", "read": "read"}.get(r["kind"], "none")
        return bool(r["got_kind"] == want)

    commands = [r for r in rows if r["kind"] in ("write", "read")]
    writes = [r for r in rows if r["kind"] == "write"]
    non_writes = [r for r in rows if r["kind"] != "write"]
    hidden = [r for r in rows if r["kind"] == "hidden"]
    by_lang = Counter(r.get("lang") for r in rows)
    per_lang = {
        lang: {
            "intent": _rate(sum(intent_ok(r) for r in rows if r.get("lang") == lang), n),
            "exact": _rate(
                sum(bool(r["exact"]) for r in commands if r.get("lang") == lang),
                sum(1 for r in commands if r.get("lang") == lang),
            ),
        }
        for lang, n in by_lang.items()
    }
    return {
        "per_lang": per_lang,
        "phrasings": len(rows),
        "by_kind": dict(Counter(r["kind"] for r in rows)),
        "by_lang": dict(by_lang),
        "intent_accuracy": _rate(sum(intent_ok(r) for r in rows), len(rows)),
        "exact_command_accuracy": _rate(sum(bool(r["exact"]) for r in commands), len(commands)),
        "exact_write_accuracy": _rate(sum(bool(r["exact"]) for r in writes), len(writes)),
        "write_free_text_same": _rate(
            sum(bool(r["text_same"]) for r in writes if r["exact"]),
            sum(1 for r in writes if r["exact"]),
        ),
        "wrong_writes": sum(1 for r in non_writes if r["got_kind"] == "write"),
        "non_write_phrasings": len(non_writes),
        "writes_to_wrong_command": sum(
            1 for r in writes if r["got_kind"] == "write" and not r["exact"]
        ),
        "writes_asked_back": sum(1 for r in writes if r["got_kind"] != "write"),
        "hidden_ok": _rate(sum(bool(r.get("hidden_ok")) for r in hidden), len(hidden)),
    }


def _rate(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "n/a"


def near_copies(texts: dict[str, str], against: list[str], ratio: float = 0.8) -> set[str]:
    """Ids whose text is the same (case and spacing aside) as, or a near copy of, a line of
    `against` (difflib ratio >= `ratio`): a later set's lines an earlier writer already wrote."""
    norm = [re.sub(r"\s+", " ", t.lower().strip()) for t in against]
    seen = set(norm)
    out = set()
    for key, text in texts.items():
        t = re.sub(r"\s+", " ", text.lower().strip())
        if t in seen:
            out.add(key)
            continue
        sm = difflib.SequenceMatcher(None, t, "")
        for o in norm:
            if abs(len(o) - len(t)) > 0.4 * max(len(t), 1):
                continue
            sm.set_seq2(o)
            if sm.real_quick_ratio() >= ratio and sm.quick_ratio() >= ratio and sm.ratio() >= ratio:
                out.add(key)
                break
    return out


def main() -> None:
    """Evaluate a set and print its figures (and, with --verbose, each row)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", type=Path)
    ap.add_argument("--book", type=Path, default=BOOK)
    ap.add_argument("--json", type=Path, default=None, help="write figures and rows here")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--misses", action="store_true", help="print the rows that were wrong")
    ap.add_argument(
        "--novel-against",
        type=Path,
        nargs="*",
        default=[],
        help="also give the figures of the lines that are no near copy of these sets' lines",
    )
    args = ap.parse_args()
    result = evaluate(args.set, book=args.book, verbose=args.verbose)
    if args.novel_against:
        lines = [json.loads(x) for x in args.set.read_text("utf-8").splitlines() if x.strip()]
        against = [
            json.loads(x)["text"]
            for path in args.novel_against
            for x in path.read_text("utf-8").splitlines()
            if x.strip()
        ]
        copies = near_copies({str(x["id"]): str(x["text"]) for x in lines}, against)
        novel = [r for r in result["rows"] if r["id"] not in copies]
        result["novel"] = {"near_copies": sorted(copies), "figures": figures(novel)}
        print("lines that are no near copy:", len(novel), "of", len(result["rows"]))
        print(json.dumps(result["novel"]["figures"], ensure_ascii=False, indent=2))
    if args.misses:
        for r in result["rows"]:
            bad = (
                (r["kind"] in ("write", "read") and not r["exact"])
                or (r["kind"] in ("none",) and r["got_kind"] == "write")
                or (r["kind"] == "hidden" and not r.get("hidden_ok"))
            )
            if bad:
                print(json.dumps(r, ensure_ascii=False))
    print(json.dumps(result["figures"], ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
