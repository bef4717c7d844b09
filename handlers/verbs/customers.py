"""Verbs about customers: customer card, find, customers, new customer."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from crm_core.errors import Invalid
from crm_core.models import Customer, Role
from crm_core.resolve import resolve_customer, resolve_user
from crm_core.services import customers as svc
from crm_core.services import tiers as tier_svc
from crm_core.services.tickets import CustomerService
from handlers import custom
from handlers import format as fmt
from handlers.args import Arg, Kind, option_words
from handlers.grammar import split_commas, take_keywords, unquote
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section
from handlers.verbs.tiers import status_field

PAGE = 20
_PAGE = re.compile(r"(?:page\s*|第\s*)?(\d{1,6})\s*页?", re.I)
FORCE = "--force"
NEW_CUSTOMER_ARGS = (
    Arg("name", Kind.name),
    Arg("industry", Kind.text, optional=True, keyword="industry", also=("行业",)),
    Arg("city", Kind.text, optional=True, keyword="city", also=("城市",)),
    Arg("owner", Kind.user, optional=True, keyword="owner", also=("负责人",), label="user"),
    Arg("tags", Kind.text, optional=True, keyword="tags", also=("tag", "标签"), label="a, b"),
)
NEW_CUSTOMER_KEYWORDS = option_words(NEW_CUSTOMER_ARGS)


def _service_fields(t: Translator, service: CustomerService, tz: ZoneInfo) -> list[Field]:
    """Satisfaction and open tickets, when the customer has any."""
    out = []
    parts = []
    if service.latest_nps is not None:
        day = fmt.local_day(service.latest_nps.created_at, tz)
        parts.append(t("card.nps", score=service.latest_nps.score, date=day))
    if service.csat_mean is not None:
        parts.append(t("card.csat", mean=service.csat_mean, count=service.csat_count))
    if parts:
        out.append(Field(t("field.satisfaction"), " · ".join(parts)))
    if service.open_tickets:
        out.append(Field(t("field.open_tickets"), str(service.open_tickets)))
    return out


def customer(req: Request) -> Reply:
    """Show the summary card of one customer."""
    t, ctx = req.t, req.ctx
    if not req.args:
        raise Invalid("usage.customer")
    found = resolve_customer(ctx, req.args)
    card = svc.customer_card(ctx, found)
    c = card.customer
    tz = ctx.tz
    days = card.days_since_contact
    if days is None or card.last_contact is None:
        last = t("card.never_contacted")
    else:
        when = fmt.local_day(card.last_contact, tz)
        key = {0: "card.today", 1: "card.yesterday"}.get(days, "card.days_ago")
        last = t(key, days=days, date=when)
    fields = [
        Field(t("field.owner"), card.owner.name),
        Field(t("field.industry"), c.industry or "—"),
        Field(t("field.city"), c.city or "—"),
        Field(t("field.tags"), ", ".join(c.tags) if c.tags else "—"),
        Field(t("field.last_contact"), last),
        *_service_fields(t, card.service, tz),
        *custom.card_fields(ctx, t, "customer", c.custom),
    ]
    standing = tier_svc.status(ctx, c) if card.tier_rules else None
    if standing is not None:
        fields.insert(5, status_field(t, standing))
    contacts = [
        " · ".join(
            p
            for p in (
                k.name,
                k.title,
                k.email,
                k.phone,
                t("card.birthday", date=fmt.birthday(k.birthday)) if k.birthday else None,
                *custom.inline(ctx, t, "contact", k.custom),
            )
            if p
        )
        for k in card.contacts
    ]
    deals = [fmt.deal_line(t, d) for d in card.open_deals]
    notes = [fmt.note_line(t, n, tz, card.authors[n.author_id]) for n in card.recent]
    reminders = [f"{fmt.local_time(r.due_at, tz)} · {fmt.preview(r.text)}" for r in card.reminders]
    sections = [
        Section(t("card.contacts"), contacts or [t("card.none")]),
        Section(t("card.open_deals"), deals or [t("card.none")]),
        Section(t("card.recent"), notes or [t("card.none")]),
        Section(t("card.reminders"), reminders or [t("card.none")]),
    ]
    buttons = [
        Button.run(t("button.ask"), f"ask #{c.id}", "primary"),
        Button.run(t("button.deals"), f"deals #{c.id}"),
        Button.run(t("button.edit"), f"edit customer #{c.id}"),
        Button.run(t("button.how_to_log"), "help log"),
    ]
    if card.service.open_tickets:
        buttons.append(Button.run(t("button.customer_tickets"), f"tickets #{c.id}"))
    # The card lists contacts as lines, so one button: straight to the form when there is one
    # contact, else the contacts as choices.
    if len(card.contacts) == 1:
        buttons.append(Button.run(t("button.edit_contact"), f"edit contact #{card.contacts[0].id}"))
    elif card.contacts:
        buttons.append(Button.run(t("button.edit_contact"), f"edit contact #{c.id} /"))
    preamble = [_redirected(req)]
    if c.archived_at is not None:
        preamble.append(t("card.archived", id=c.id))
        buttons = [Button.run(t("button.unarchive"), f"unarchive #{c.id}", "primary")]
    return Reply(
        text="\n".join(line for line in preamble if line),
        title=c.name,
        fields=fields,
        sections=sections,
        buttons=buttons,
        shareable=True,
    )


def _redirected(req: Request) -> str:
    """ "#31 ACME Inc was merged into #7 Acme" for each merged customer a lookup followed."""
    return "\n".join(
        req.t(
            "merge.redirect",
            old_id=r.old_id,
            old_name=r.old_name,
            new_id=r.new_id,
            new_name=r.new_name,
        )
        for r in req.ctx.redirects
    )


def find(req: Request) -> Reply:
    """Search the customers the user may see."""
    t = req.t
    if not req.args:
        raise Invalid("usage.find")
    hits = svc.search_customers(req.ctx, req.args)
    if not hits:
        return Reply(
            text=t("find.none", query=req.args),
            status="info",
            buttons=[Button.run(t("button.list_customers"), "customers")],
        )
    # A person searched for ("find Lisa King"): their title, phone and email with their
    # customer, which is what "Lisa King's number?" asks.
    people = [
        Field(
            f"{c.name} ({customer.name})",
            " · ".join(p for p in (c.title, c.phone, c.email) if p) or t("card.none"),
        )
        for customer, c in svc.contacts_named(req.ctx, hits, req.args)
    ]
    return Reply(
        text=_redirected(req),
        title=t("find.title", query=req.args, count=len(hits)),
        fields=people[:8],
        items=[_customer_line(c) for c in hits],
        buttons=[Button.run(c.name, f"customer #{c.id}") for c in hits[:8]],
    )


# A manager's list is the team's book and an admin's the whole company's, not "yours".
_LIST_TITLES = {
    Role.rep: "customers.title",
    Role.manager: "customers.title_team",
    Role.admin: "customers.title_all",
}


def _customer_line(c: Customer) -> str:
    return " · ".join(p for p in (f"#{c.id} {c.name}", c.industry, c.city) if p)


def customers(req: Request) -> Reply:
    """List the customers the user may see, a page at a time."""
    t = req.t
    page = 1
    if req.args:
        m = _PAGE.fullmatch(req.args.strip())
        if m is None or int(m.group(1)) < 1:
            raise Invalid("usage.customers")
        page = int(m.group(1))
    rows, total = svc.list_customers(req.ctx, limit=PAGE, offset=(page - 1) * PAGE)
    if total == 0:
        return Reply(text=t("customers.none"), status="info")
    pages = (total + PAGE - 1) // PAGE
    if page > pages:
        raise Invalid("customers.no_such_page", page=page, pages=pages)
    buttons = []
    if page < pages:
        buttons.append(Button.run(t("button.more"), f"customers page {page + 1}"))
    return Reply(
        title=t(_LIST_TITLES[req.ctx.actor.role], total=total, page=page, pages=pages),
        items=[_customer_line(c) for c in rows],
        buttons=buttons,
    )


def new_customer(req: Request) -> Reply:
    """Create a customer, flagging near-duplicates instead of creating them twice."""
    t, ctx = req.t, req.ctx
    args = req.args
    force = args.endswith(FORCE)
    if force:
        args = args[: -len(FORCE)].strip()
    lead, opts = take_keywords(args, NEW_CUSTOMER_KEYWORDS)
    name, junk = unquote(lead)
    if junk:
        raise Invalid("usage.new_customer")
    if not name:
        raise Invalid("usage.new_customer")
    for key in ("industry", "city", "owner", "tags"):
        if key in opts and not opts[key]:
            raise Invalid("error.option_empty", option=key, usage=t("usage.new_customer"))
    owner = resolve_user(ctx, opts["owner"]) if "owner" in opts else None
    try:
        created = svc.create_customer(
            ctx,
            name,
            industry=opts.get("industry"),
            city=opts.get("city"),
            tags=split_commas(opts.get("tags", "")),
            owner=owner,
            force=force,
        )
    except svc.DuplicateCustomer as dup:
        ctx.session.rollback()
        buttons = [Button.run(f"{c.label}", f"customer #{c.id}") for c in dup.existing]
        if not dup.exact:
            buttons.append(Button.run(t("button.create_anyway"), f"{req.text} {FORCE}", "danger"))
        return Reply(
            text=t(dup.key, name=dup.existing[0].label, new=name),
            items=[
                f"#{c.id} {c.label}" + (f" · {c.detail}" if c.detail else "") for c in dup.existing
            ],
            buttons=buttons,
            status="info",
        )
    owner_name = owner.name if owner else ctx.actor.name
    # Show what was read into each field, so a name split by a keyword is seen at once.
    fields = [
        Field(t(f"field.{key}"), value)
        for key, value in (
            ("industry", created.industry),
            ("city", created.city),
            ("tags", ", ".join(created.tags)),
        )
        if value
    ]
    return Reply(
        text=t("new_customer.done", name=created.name, owner=owner_name),
        fields=fields,
        buttons=[
            Button.run(t("button.open"), f"customer #{created.id}", "primary"),
        ],
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 10
VERBS = [
    Verb(
        "customer",
        customer,
        args=(Arg("customer", Kind.name),),
        examples=("customer Acme", "客户 华东物流"),
        writes=False,
        aliases=("客户", "card"),
        keyed=True,
    ),
    Verb(
        "find",
        find,
        args=(Arg("words", Kind.text),),
        examples=("find acme", "查找 物流"),
        writes=False,
        aliases=("search", "查找", "搜索"),
    ),
    Verb(
        "customers",
        customers,
        args=(Arg("page", Kind.number, optional=True, keyword="page", also=("第",), label="N"),),
        examples=("customers", "customers page 2"),
        writes=False,
        aliases=("客户列表", "我的客户", "客户清单"),
    ),
    Verb(
        "new customer",
        new_customer,
        args=NEW_CUSTOMER_ARGS,
        examples=(
            "new customer Acme Logistics industry logistics city Boston",
            "new customer Northwind owner @bob tags enterprise, renewal",
            "新客户 华东物流 行业 物流 城市 上海",
        ),
        writes=True,
        aliases=("add customer", "新客户", "新建客户", "添加客户"),
        menu="new_customer",
    ),
]
