"""Membership tiers: `tiers: silver 50k, gold 200k on won value in 12 months`, `tier Acme`."""

from __future__ import annotations

import re
from decimal import Decimal

from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Role
from crm_core.resolve import resolve_customer
from crm_core.services import tiers as svc
from crm_core.text import char_view
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.grammar import take_amount
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section

# A comma before three digits is a thousands separator (`50,000`), not a new level.
_LEVEL_SPLIT = re.compile(r"\s*(?:,(?!\d{3}(?:\D|$))|[，、;；])\s*")
# Where the levels end and the basis begins: `on won value …`, `按 12 个月赢单金额`.
_BASIS = re.compile(r"(?:^|\s)(?:on|over|by|based on)\s|按|基于|根据|以")
_MONTHS = re.compile(r"(\d{1,4})\s*(?:months?|mos?|个月|月)")
_YEARS = re.compile(r"(\d{1,2})\s*(?:years?|yrs?|年)")
# The words a basis may hold: it is always won value over a window.
_BASIS_WORDS = re.compile(
    r"\b(?:won|value|amount|revenue|sales|deals?|in|the|last|past|of|over|within|trailing|a)\b|"
    r"赢单|成交|销售额|金额|额|最近|近|过去|之内|内|的|期间|计算|计"
)
_POINTS = ("points", "point", "积分", "点数")
PIN_WORDS = ("pin", "pinned", "固定", "锁定")
UNPIN_WORDS = ("unpin", "取消固定", "解除固定", "解锁")


# Words a points basis may hold besides the points word and the field's name.
_POINTS_FILLER = frozenset({"the", "of", "in", "field", "字段", "的", "客户"})


def _basis_points(text: str) -> str | None:
    """The field a points basis names (`points`, `points loyalty`, `积分`); None: not points."""
    words = text.split()
    said = next((w for w in words if w in _POINTS), None)
    if said is None:
        return None
    rest = [w for w in words if w != said and w not in _POINTS_FILLER]
    if len(rest) > 1:
        raise Invalid("error.tier_basis_word", word=rest[1])
    # The points word names the field itself unless another word does.
    return rest[0] if rest else said


def _basis_months(text: str) -> int:
    """The window a basis names (12 months by default); Invalid on words it does not read."""
    months = 12
    rest = text
    m = _MONTHS.search(rest)
    if m:
        months = int(m.group(1))
        rest = rest[: m.start()] + " " + rest[m.end() :]
    else:
        y = _YEARS.search(rest)
        if y:
            months = int(y.group(1)) * 12
            rest = rest[: y.start()] + " " + rest[y.end() :]
    left = _BASIS_WORDS.sub(" ", rest).split()
    if left:
        # The word that was not understood, rather than the number before it.
        worded = [w for w in left if not w.isdigit()]
        raise Invalid("error.tier_basis_word", word=(worded or left)[0])
    return months


def parse_rules(
    text: str,
) -> tuple[list[tuple[str, Decimal]], int, str | None, str | None]:
    """`silver 50k, gold 200k, platinum 1M on won value in 12 months` -> levels, months,
    currency and no points field; `silver 500, gold 2000 on points` -> the field `points`.

    Also `银卡 5万，金卡 20万 按 12 个月赢单金额`, `银卡 500，金卡 2000 按积分` and their
    Traditional forms.
    """
    raw = text.strip()
    view = char_view(raw)
    m = _BASIS.search(view)
    levels_text, basis = (view[: m.start()], view[m.end() :]) if m else (view, "")
    # `按积分`: the points word written against the basis word.
    basis = next((basis.replace(p, f" {p} ", 1) for p in _POINTS if p in basis), basis)
    points = _basis_points(basis)
    months = 12 if points is not None else _basis_months(basis)
    levels: list[tuple[str, Decimal]] = []
    currencies: set[str] = set()
    # Split in the view, and the same spans of what was typed kept to echo back (台灣, not 台湾).
    cuts = [0, *(i for c in _LEVEL_SPLIT.finditer(levels_text) for i in c.span()), len(levels_text)]
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        part = levels_text[start:end].strip()
        if not part:
            continue
        name, amount, currency = take_amount(part)
        if amount is None or not name:
            raise Invalid("error.tier_level", part=raw[start:end].strip())
        if currency:
            currencies.add(currency)
        levels.append((name.strip(), amount))
    if not levels:
        raise Invalid("usage.tiers")
    if len(currencies) > 1:
        raise Invalid("error.tier_currencies", currencies=", ".join(sorted(currencies)))
    return levels, months, next(iter(currencies), None), points


def points(value: Decimal) -> str:
    """Points as a number with thousands separators (`1,880`, `12.5`)."""
    return f"{value.normalize():,f}" if value != value.to_integral() else f"{int(value):,}"


def _example(t: Translator, prog: svc.Program) -> str:
    """A tier of this program for the hints (the top one), never a name it does not have."""
    return t.words(prog.levels[-1].name)


def _rules_reply(t: Translator, prog: svc.Program) -> Reply:
    if prog.points_field is not None:
        lines = [
            t("tiers.points_line", tier=t.words(lv.name), points=points(lv.threshold))
            for lv in prog.levels
        ]
        text = t("tiers.basis_points", field=prog.points_field, example=_example(t, prog))
    else:
        lines = [
            t(
                "tiers.level_line",
                tier=t.words(lv.name),
                amount=fmt.money(lv.threshold, prog.currency, t),
            )
            for lv in prog.levels
        ]
        text = t(
            "tiers.basis", months=prog.months, currency=prog.currency, example=_example(t, prog)
        )
    return Reply(title=t("tiers.title"), text=text, sections=[Section(t("tiers.levels"), lines)])


def tiers(req: Request) -> Reply:
    """`tiers` shows the rules; `tiers: silver 50k, gold 200k …` sets them (admins)."""
    t, ctx = req.t, req.ctx
    if not req.args.strip():
        prog = svc.program(ctx.session)
        if prog is None:
            return Reply(text=t("tiers.none"), status="info")
        return _rules_reply(t, prog)
    levels, months, currency, field = parse_rules(req.args)
    prog, changed = svc.set_program(ctx, levels, months, currency, field)
    reply = _rules_reply(t, prog)
    reply.text = t("tiers.set", count=changed) + "\n" + reply.text
    return reply


def _word(text: str) -> str:
    return char_view(text).strip()


def status_field(t: Translator, status: svc.TierStatus) -> Field:
    """The card's tier line: `gold (pinned) · 162,000 USD won in 12 months · 38,000 USD to …`."""
    cur = status.program.currency
    name = t.words(status.tier) if status.tier else t("tier.none")
    if status.pinned:
        name = t("tier.pinned", tier=name)
    gap = status.gap
    if status.program.points_field is not None:
        parts = [name, t("tier.points", points=points(status.value))]
        if status.next_level is not None and gap is not None:
            parts.append(
                t("tier.points_to_next", points=points(gap), tier=t.words(status.next_level.name))
            )
        return Field(t("field.tier"), " · ".join(parts))
    parts = [
        name,
        t("tier.value", amount=fmt.money(status.value, cur, t), months=status.program.months),
    ]
    if status.next_level is not None and gap is not None:
        parts.append(
            t("tier.to_next", amount=fmt.money(gap, cur, t), tier=t.words(status.next_level.name))
        )
    return Field(t("field.tier"), " · ".join(parts))


def tier(req: Request) -> Reply:
    """`tier Acme` shows it; `tier Acme gold pin` pins it and `tier Acme unpin` lets go (admins)."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    if not args:
        raise Invalid("usage.tier")
    words = args.split()
    action = "show"
    if len(words) >= 2 and _word(words[-1]) in UNPIN_WORDS:
        action, words = "unpin", words[:-1]
    elif len(words) >= 2 and _word(" ".join(words[-2:])) in UNPIN_WORDS:
        action, words = "unpin", words[:-2]
    elif len(words) >= 3 and _word(words[-1]) in PIN_WORDS:
        action, words = "pin", words[:-1]
    level = None
    prog = svc.program(ctx.session)
    pinnable = action in ("show", "pin") and len(words) >= 2 and prog is not None
    if pinnable and prog is not None and prog.find(words[-1]) is not None:
        level, words = words[-1], words[:-1]
        action = "pin"
    if action == "pin" and ctx.actor.role != Role.admin:
        # Who may pin comes before which tier: a rep is told that, not how to spell a tier.
        raise PermissionDenied("error.tier_admin_only")
    if action == "pin" and level is None:
        if prog is None:
            raise Invalid("error.tiers_none")
        raise Invalid(
            "error.tier_unknown",
            tier=words[-1],
            tiers=", ".join(t.words(lv.name) for lv in prog.levels),
            customer=" ".join(words[:-1]),
            example=_example(t, prog),
        )
    customer = resolve_customer(ctx, " ".join(words))
    if action == "pin" and level is not None:
        svc.pin(ctx, customer, level)
        text = t(
            "tier.pinned_done",
            customer=customer.name,
            tier=t.words(prog.find(level) or level) if prog else level,
        )
    elif action == "unpin":
        change = svc.unpin(ctx, customer)
        text = t("tier.unpinned_done", customer=customer.name)
        if change is not None:
            text += " " + t("tier.now", tier=t.words(change.to_tier or t("tier.none")))
        else:
            text += " " + t("tier.review_decides")
    else:
        text = ""
    found = svc.status(ctx, customer)
    if found is None:
        return Reply(text=t("tiers.none"), status="info")
    return Reply(
        title=customer.name,
        text=text,
        fields=[status_field(t, found)],
        buttons=[
            Button.run(t("button.open_named", name=customer.name), f"customer #{customer.id}")
        ],
    )


# Where these verbs come in help: after the reports, before the service desk.
ORDER = 63
VERBS = [
    Verb(
        "tiers",
        tiers,
        args=(Arg("rules", Kind.text, optional=True, label="silver 50k, gold 200k …"),),
        examples=(
            "tiers",
            "tiers: silver 50k, gold 200k, platinum 1M on won value in 12 months",
            "等级：银卡 5万，金卡 20万，白金 100万 按 12 个月赢单金额",
        ),
        writes=True,
        aliases=("等级", "会员等级", "tier rules"),
        menu="tiers",
    ),
    Verb(
        "tier",
        tier,
        args=(
            Arg("customer", Kind.name),
            Arg("tier", Kind.text, optional=True, label="gold pin|unpin"),
        ),
        examples=(
            "tier Acme",
            "tier Acme gold pin",
            "tier Acme unpin",
            "客户等级 华东物流 金卡 固定",
        ),
        writes=True,
        aliases=("客户等级",),
        menu="tier",
    ),
]
