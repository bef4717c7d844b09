"""Verbs about interactions: log, edit, undo."""

from __future__ import annotations

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Contact, Customer, Deal, Interaction, InteractionKind
from crm_core.resolve import (
    customer_name_exists,
    resolve_contact,
    resolve_customer,
    resolve_deal,
)
from crm_core.services.followups import add_follow_up, check_follow_up_day
from crm_core.services.interactions import (
    MAX_TEXT as MAX_NOTE,
)
from crm_core.services.interactions import (
    check_note_text,
    check_occurred_at,
    edit_interaction,
    log_interaction,
    undo_interaction,
)
from crm_core.text import fold
from crm_core.timephrases import find_follow_up
from crm_core.when import parse_when
from handlers import format as fmt
from handlers.args import Arg, Kind, arg_named, take_ref
from handlers.files import file_label, file_link
from handlers.forms import FieldKind, Form, FormField, FormRequest
from handlers.grammar import split_colon, split_commas, take_kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Command, Location, OpenForm, Reply, SourceLink

LOG_ARGS = (
    Arg("kind", Kind.choice, optional=True, choices=tuple(k.value for k in InteractionKind)),
    Arg("customer", Kind.name),
    Arg("when", Kind.time, optional=True, sep=", "),
    Arg("deal", Kind.name, optional=True, sep=", ", keyword="deal", also=("商机",)),
    Arg(
        "contact",
        Kind.name,
        optional=True,
        sep=", ",
        keyword="with",
        also=("contact", "联系人", "联络人"),
    ),
    Arg("text", Kind.text, sep=": "),
)


def _prefixes(name: str) -> tuple[str, ...]:
    """An option's keyword forms as line prefixes: a Latin word ends at a space."""
    words = arg_named(LOG_ARGS, name).words
    return tuple(f for w in words for f in ((w + " ",) if w.isascii() else (w + " ", w)))


_DEAL_WORDS = _prefixes("deal")
_CONTACT_WORDS = _prefixes("contact")


def _option(part: str, words: tuple[str, ...]) -> str | None:
    folded = fold(part)
    for word in words:
        if folded.startswith(word):
            return part[len(word) :].strip()
    return None


def _is_option(ctx: Ctx, part: str) -> bool:
    return (
        _option(part, _DEAL_WORDS) is not None
        or _option(part, _CONTACT_WORDS) is not None
        or parse_when(part, ctx.tz, ctx.now(), day_first=ctx.day_first) is not None
    )


def _location(command: Command) -> tuple[float, float] | None:
    """Coordinates attached by the platform (a Telegram location), as (latitude, longitude)."""
    loc = command.attached(Location)
    if loc is None:
        return None
    if not (-90 <= loc.latitude <= 90 and -180 <= loc.longitude <= 180):
        raise Invalid("error.bad_location")
    return loc.latitude, loc.longitude


def log(req: Request) -> Reply:
    """Log an interaction: `log call Acme, yesterday 3pm, deal X, with Dana: text`."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head.strip() and body is None:
        # `log` alone: the form, as each platform shows it.
        # The usage is for where no form can be shown (`crmbot run log`).
        return Reply(
            text=t("usage.log"),
            status="info",
            form=OpenForm(LOG_FORM.name, {"kind": InteractionKind.call.value}),
        )
    if not head or body is None:
        raise Invalid("usage.log")
    if not body:
        raise Invalid("error.log_text_missing")
    kind, rest = take_kind(head)
    parts = split_commas(rest)
    if not parts:
        raise Invalid("error.customer_missing")
    # Leading parts up to the first option name the customer; more than one part only when
    # together they are exactly a customer's name with a comma ("Smith, Jones & Co").
    first_option = next((i for i, p in enumerate(parts) if i and _is_option(ctx, p)), len(parts))
    name_parts, options = parts[:first_option], parts[first_option:]
    taken = len(name_parts)
    while taken > 1 and not customer_name_exists(ctx, ", ".join(name_parts[:taken])):
        taken -= 1
    if taken < len(name_parts):
        raise Invalid("error.log_option_unknown", option=name_parts[taken], usage=t("usage.log"))
    deal_q = contact_q = when_q = None
    for part in options:
        if (value := _option(part, _DEAL_WORDS)) is not None:
            deal_q = value
        elif (value := _option(part, _CONTACT_WORDS)) is not None:
            contact_q = value
        elif parse_when(part, ctx.tz, ctx.now(), day_first=ctx.day_first) is not None:
            when_q = part
        else:
            raise Invalid("error.log_option_unknown", option=part, usage=t("usage.log"))
        if value == "":
            raise Invalid("error.option_empty", option=part, usage=t("usage.log"))
    customer = resolve_customer(ctx, ", ".join(name_parts))
    deal: Deal | None = resolve_deal(ctx, deal_q, customer=customer) if deal_q else None
    contact: Contact | None = resolve_contact(ctx, customer, contact_q) if contact_q else None
    occurred = parse_when(when_q, ctx.tz, ctx.now(), day_first=ctx.day_first) if when_q else None
    note, created = log_interaction(
        ctx,
        customer,
        kind or InteractionKind.note,
        body,
        occurred_at=occurred,
        deal=deal,
        contact=contact,
        source=req.command.platform,
        idempotency_key=req.command.idempotency_key,
        # Where the note came from, when the platform knows (a Slack message permalink), or
        # the file sent with it (a captioned Telegram photo, document or voice note).
        link=link.url if (link := req.command.attached(SourceLink)) else file_link(req.command),
        location=_location(req.command),
    )
    return _logged(req.t, ctx, note, created, customer, deal, contact, body)


def _logged(
    t: Translator,
    ctx: Ctx,
    note: Interaction,
    created: bool,
    customer: Customer,
    deal: Deal | None,
    contact: Contact | None,
    body: str,
) -> Reply:
    """What a new (or already logged) note answers, typed or from the form."""
    if not created:
        return Reply(text=t("log.already", id=note.id), status="info")
    extras = []
    if deal:
        extras.append(t("log.with_deal", deal=deal.title))
    if contact:
        extras.append(t("log.with_contact", contact=contact.name))
    if attached := file_label(t, note.link):
        extras.append(t("log.with_file", file=attached))
    return Reply(
        text=t(
            "log.done",
            kind=fmt.kind(t, note.kind),
            customer=customer.name,
            when=fmt.local_time(note.occurred_at, ctx.tz),
            extras="".join(extras),
            id=note.id,
        ),
        items=[fmt.preview(note.text)],
        buttons=[
            Button.run(t("button.undo"), f"undo #{note.id}", "danger"),
            Button.run(t("button.open"), f"customer #{customer.id}"),
            *_follow_up_button(t, ctx, body, customer),
        ],
    )


def _follow_up_button(t: Translator, ctx: Ctx, note: str, customer: Customer) -> list[Button]:
    """One tap to be reminded when the note says when to follow up ("f/u next Tue")."""
    found = find_follow_up(note, ctx.now(), ctx.tz, day_first=ctx.day_first)
    if found is None or found.due <= ctx.now():
        return []
    local = found.due.astimezone(ctx.tz)
    moment = local.strftime("%Y-%m-%d %H:%M" if found.explicit_time else "%Y-%m-%d")
    return [
        Button.run(
            t("button.remind_follow_up", when=fmt.local_time(found.due, ctx.tz)),
            f"remind me {moment} {t('remind.follow_up_text', customer=customer.name)}",
            pick={"customer": customer.id},
        )
    ]


def edit(req: Request) -> Reply:
    """Replace a note's text: `edit #42: the corrected text`."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    rid, extra = take_ref(head)
    if rid is None or extra or body is None:
        raise Invalid("usage.edit")
    note, changed = edit_interaction(ctx, rid, body)
    if not changed:
        return Reply(text=t("edit.unchanged", id=note.id), status="info")
    return Reply(
        text=t(
            "edit.done",
            id=note.id,
            kind=fmt.kind(t, note.kind),
            customer=note.customer.name,
            when=fmt.local_time(note.occurred_at, ctx.tz),
        ),
        items=[fmt.preview(note.text)],
        buttons=[
            Button.run(t("button.view_note"), f"note #{note.id}"),
            Button.run(t("button.open"), f"customer #{note.customer_id}"),
        ],
    )


def undo(req: Request) -> Reply:
    """Remove a logged interaction by its number (the Undo button sends this)."""
    t, ctx = req.t, req.ctx
    rid, extra = take_ref(req.args)
    if rid is None or extra:
        raise Invalid("usage.undo")
    note = undo_interaction(ctx, rid)
    return Reply(
        text=t(
            "undo.done",
            kind=fmt.kind(t, note.kind),
            customer=note.customer.name,
            when=fmt.local_time(note.occurred_at, ctx.tz),
        )
    )


def _kinds(t: Translator) -> list[tuple[str, str]]:
    return [(k.value, fmt.kind(t, k.value)) for k in InteractionKind]


def _read_kind(text: str) -> str | None:
    kind, rest = take_kind(text)
    return kind.value if kind is not None and not rest else None


def submit_log(req: FormRequest) -> Reply:
    """The log form: every field checked by the services that write, then the note and the
    follow-up in one unit of work."""
    ctx, t, v = req.ctx, req.t, req.values
    checks = req.checks()
    customer: Customer | None = None
    if v.get("customer"):
        customer = checks.run("customer", resolve_customer, ctx, f"#{v['customer']}")
    else:
        checks.fail("customer", Invalid("error.customer_missing"))
    text = checks.run("notes", check_note_text, req.text("notes"))
    checks.run("when", check_occurred_at, ctx, v.get("when"))
    deal = contact = None
    if customer is not None and req.text("deal"):
        deal = checks.run("deal", resolve_deal, ctx, req.text("deal"), customer=customer)
    if customer is not None and req.text("contact"):
        contact = checks.run("contact", resolve_contact, ctx, customer, req.text("contact"))
    day = v.get("follow_up")
    if day is not None:
        checks.run("follow_up", check_follow_up_day, ctx, day)
    checks.done()
    assert customer is not None and text is not None
    kind = InteractionKind(v.get("kind") or InteractionKind.note.value)
    note, created = log_interaction(
        ctx,
        customer,
        kind,
        text,
        occurred_at=v.get("when"),
        deal=deal,
        contact=contact,
        source=req.command.platform,
        idempotency_key=req.command.idempotency_key,
        link=link.url if (link := req.command.attached(SourceLink)) else file_link(req.command),
        location=_location(req.command),
    )
    reply = _logged(t, ctx, note, created, customer, deal, contact, text)
    if created and day is not None:
        reminder = add_follow_up(
            ctx, customer, day, t("follow_up.text", customer=customer.name), deal=deal
        )
        reply.items.append(t("follow_up.set", when=fmt.local_time(reminder.due_at, ctx.tz)))
    return reply


LOG_FORM = Form(
    "log",
    title="form.log.title",
    submit_label="form.log.submit",
    confirm="form.log.confirm",
    run=submit_log,
    fields=(
        FormField(
            "customer",
            "form.log.customer",
            FieldKind.record,
            required=True,
            hint="form.log.customer_hint",
        ),
        FormField(
            "kind",
            "form.log.kind",
            FieldKind.choice,
            required=True,
            choices=_kinds,
            read=_read_kind,
            ask="form.log.kind_ask",
            bad="form.log.kind_bad",
        ),
        FormField("when", "form.log.when", FieldKind.datetime, step=False),
        FormField("contact", "form.log.contact", hint="form.log.contact_hint", step=False),
        FormField("deal", "form.log.deal", hint="form.log.deal_hint", step=False),
        FormField(
            "notes",
            "form.log.notes",
            FieldKind.multiline,
            required=True,
            max_length=MAX_NOTE,
            ask="form.log.notes_ask",
        ),
        FormField(
            "follow_up",
            "form.log.follow_up",
            FieldKind.date,
            ask="form.log.follow_up_ask",
            skip="button.no_follow_up",
        ),
    ),
)


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 30
VERBS = [
    Verb(
        "log",
        log,
        args=LOG_ARGS,
        examples=(
            "log call Acme: Dana wants 12% off the renewal, legal review next week",
            "log meeting Acme, yesterday 3pm, deal Fleet renewal, with Dana: pricing walkthrough",
            "记录 拜访 华东物流：客户希望下月试用",
        ),
        writes=True,
        aliases=("记录",),
        form=LOG_FORM,
        keyed=True,
    ),
    Verb(
        "edit",
        edit,
        args=(Arg("note", Kind.ref), Arg("text", Kind.text, sep=": ", label="the corrected text")),
        examples=("edit #42: Dana wants 15% off the renewal, not 12%",),
        writes=True,
        aliases=("修改",),
    ),
    Verb(
        "undo",
        undo,
        args=(Arg("note", Kind.ref),),
        examples=("undo #42",),
        writes=True,
        aliases=("撤销",),
    ),
]
