"""Verbs about what the notes say: ask a question, show one note in full."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer
from crm_core.resolve import ref_id, resolve_customer
from crm_core.services.interactions import get_interaction
from handlers import format as fmt
from handlers.args import Arg, Kind, take_ref
from handlers.files import file_label
from handlers.grammar import split_colon
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section
from retrieval.ask import MAX_QUESTION, Answer, Source
from retrieval.notes import Cited, TicketNote

# A head before a colon that starts like a question is part of the question, not a customer.
_QUESTION_START = re.compile(
    r"^\s*(what|who|whom|when|where|why|how|which|did|does|do|is|are|was|were|has|have|had|"
    r"any|can|could|should|will|would|tell|list|show|summari[sz]e|give)\b"
    r"|^\s*(什么|谁|何时|哪|为什么|怎么|如何|是否|有没有|有无|请|告诉|列出|总结)",
    re.I,
)
# Shown when the card's Ask button is pressed without a question.
SUGGESTIONS = ("ask.suggest_last", "ask.suggest_pricing", "ask.suggest_next", "ask.suggest_risks")


def split_question(ctx: Ctx, args: str) -> tuple[Customer | None, str]:
    """`Acme: question`, `#12: question` or a bare question."""
    head, body = split_colon(args)
    if body is not None and head and len(head) <= 80 and not _QUESTION_START.search(head):
        return resolve_customer(ctx, head), body.strip()
    if ref_id(args.strip()) is not None:
        return resolve_customer(ctx, args), ""
    return None, args.strip()


def _cited_kind(t: Translator, note: Cited) -> str:
    """A note's kind (`call`), or `ticket #12` for a ticket."""
    if isinstance(note, TicketNote):
        return t("ask.ticket", id=note.ticket_id)
    return fmt.kind(t, note.kind)


def open_cited(t: Translator, src: Source) -> Button:
    """The button that opens a cited note (`note #42`) or ticket (`ticket #12`) in full."""
    if isinstance(src.note, TicketNote):
        return Button.run(t("button.show_note", n=src.number), f"ticket #{src.note.ticket_id}")
    return Button.run(t("button.show_note", n=src.number), f"note #{src.note.id}")


def source_line(t: Translator, src: Source, tz: ZoneInfo) -> str:
    """`[1] 2026-09-14 · call · Alice Chen · Acme`: what a citation points to."""
    return t(
        "ask.source",
        n=src.number,
        date=fmt.local_day(src.note.occurred_at, tz),
        kind=_cited_kind(t, src.note),
        author=src.note.author.name,
        customer=src.note.customer.name,
    )


def answer_text(t: Translator, answer: Answer) -> str:
    """The answer as plain text: the model's words, the quotes, or that nothing says so."""
    if answer.unseen:
        text = t("ask.unknown_name_closest" if answer.closest else "ask.unknown_name")
    elif not answer.answered:
        text = t("ask.not_found")
        if not answer.closest:
            # Nothing to list: say there is nothing yet rather than point at an empty list.
            text = (
                t("ask.no_notes_customer", customer=answer.customer.name)
                if answer.customer is not None
                else t("ask.no_notes")
            )
    elif answer.written:
        text = answer.written
    else:
        text = "\n".join(t("ask.quote", text=q.text, n=q.number) for q in answer.quotes)
    if answer.behind is not None:
        indexed, total = answer.behind
        text += "\n\n" + t("ask.catching_up", indexed=f"{indexed:,}", total=f"{total:,}")
    return text


def ask(req: Request) -> Reply:
    """Answer a question from the notes the asker may see, citing them."""
    t, ctx = req.t, req.ctx
    if req.notes is None:
        raise Invalid("error.ask_unavailable")
    customer, question = split_question(ctx, req.args)
    if not question:
        if customer is None:
            raise Invalid("usage.ask")
        return Reply(
            text=t("ask.prompt", customer=customer.name, id=customer.id),
            buttons=[Button.run(t(key), f"ask #{customer.id}: {t(key)}") for key in SUGGESTIONS],
        )
    if len(question) > MAX_QUESTION:
        raise Invalid("error.too_long", field="question", limit=MAX_QUESTION)
    index = req.notes()
    index.catch_up()
    answer = index.asker.ask(ctx, question, customer)
    answer.behind = index.behind()
    return render_answer(req, answer)


def render_answer(req: Request, answer: Answer) -> Reply:
    """The answer with its numbered sources and a button to open each in full."""
    t, ctx = req.t, req.ctx
    who = answer.customer.name if answer.customer is not None else None
    title = t("ask.title_customer", customer=who) if who else t("ask.title")
    if not answer.answered:
        lines = [
            source_line(t, s, ctx.tz) + f" — {fmt.preview(s.note.text, 90)}"
            for s in answer.closest[:3]
        ]
        return Reply(
            title=title,
            text=answer_text(t, answer),
            sections=[Section(t("ask.closest"), lines)] if lines else [],
            buttons=[open_cited(t, s) for s in answer.closest[:3]],
            status="info",
        )
    cited = {q.number for q in answer.quotes} if not answer.written else None
    shown = [s for s in answer.sources if cited is None or s.number in cited][:5]
    return Reply(
        title=title,
        text=answer_text(t, answer),
        sections=[Section(t("ask.sources"), [source_line(t, s, ctx.tz) for s in shown])],
        buttons=[open_cited(t, s) for s in shown],
        shareable=True,
    )


def note(req: Request) -> Reply:
    """Show one note in full: `note #42`."""
    t, ctx = req.t, req.ctx
    rid, extra = take_ref(req.args)
    if rid is None or extra:
        raise Invalid("usage.note")
    item = get_interaction(ctx, rid)
    return Reply(
        title=t(
            "note.title",
            customer=item.customer.name,
            date=fmt.local_time(item.occurred_at, ctx.tz),
            kind=fmt.kind(t, item.kind),
        ),
        text=item.text,
        fields=[
            Field(t("field.author"), item.author.name),
            *([Field(t("field.attachment"), f)] if (f := file_label(t, item.link)) else []),
        ],
        buttons=[Button.run(t("button.open"), f"customer #{item.customer_id}")],
        shareable=True,
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 40
VERBS = [
    Verb(
        "ask",
        ask,
        args=(Arg("customer", Kind.name, optional=True, end=":"), Arg("question", Kind.text)),
        examples=(
            "ask Acme: what discount did they want?",
            "ask what did Northwind say about the security review?",
            "问 华东物流：上次拜访时客户关心什么？",
        ),
        writes=False,
        aliases=("问", "提问"),
    ),
    Verb(
        "note",
        note,
        args=(Arg("note", Kind.ref),),
        examples=("note #42",),
        writes=False,
        aliases=("笔记",),
    ),
]
