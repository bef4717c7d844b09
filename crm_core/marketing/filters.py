"""Customer filters: `city Shanghai quiet 30d or not tag vip` read into one SQL condition.

A filter is a field word and a value. Each field is declared once in `FIELDS` (`register`
adds one: the deal score and the tier plug in there); custom fields of customers are read
from their declarations. Filters side by side are joined by `and`; `or` binds looser and
`not` tighter; parentheses group. A word that is not understood raises Invalid naming it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Text,
    and_,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from crm_core.access import visible_customer_ids
from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.json_paths import custom_bool, custom_text
from crm_core.marketing import scores
from crm_core.models import (
    Customer,
    CustomField,
    Deal,
    DealScore,
    Feedback,
    Interaction,
    Role,
    Team,
    User,
)
from crm_core.resolve import resolve_user
from crm_core.rules import NO, YES
from crm_core.services import tiers as tier_service
from crm_core.services.custom_fields import fields_of
from crm_core.stages import Pipeline
from crm_core.text import fold, to_simplified, to_traditional


class ValueKind(enum.StrEnum):
    """How a field's value is typed."""

    # One word (quote words with spaces), `a,b` for any of them, `*` for any characters.
    text = "text"
    # A comparison: `>50k`, `<= 7`, `=3`, or a bare number (equal).
    number = "number"
    # A span of days: `30d`, `30 days`, `30天`.
    days = "days"
    # A comparison with a day: `>2026-01-01`.
    date = "date"
    # yes / no.
    yesno = "yesno"


@dataclass(frozen=True)
class Compare:
    """A typed comparison: an operator and a number, day or span."""

    op: str
    value: Any


# Builds the SQL condition on Customer from the typed value.
Build = Callable[[Ctx, Any], ColumnElement[bool]]


@dataclass(frozen=True)
class FilterField:
    """One filter word: its names (English first, then Chinese), value kind and SQL."""

    name: str
    words: tuple[str, ...]
    kind: ValueKind
    build: Build
    # The example shown in help and errors: `quiet 30d`.
    example: str
    # How dear a test is per customer: 0 a column of the row, 1 its JSON or a lookup in a set
    # computed once, 2 a probe of another table's index, 3 an aggregate over another table. The
    # database tests `and` / `or` parts in the order written, so cheap ones go first.
    cost: int = 0


FIELDS: dict[str, FilterField] = {}


def register(field: FilterField) -> None:
    """Declare a filter field; its words must not clash with another field's."""
    taken = {w for f in FIELDS.values() for w in (f.name, *f.words) if f.name != field.name}
    clash = {field.name, *field.words} & taken
    if clash:
        raise ValueError(f"filter {field.name!r} reuses {sorted(clash)}")
    FIELDS[field.name] = field
    _LOOKUP.clear()


# The declared fields' words, folded once (folding every word in both scripts cost each
# filter line ~3 ms); emptied when a field is registered.
_LOOKUP: dict[str, FilterField] = {}


def _builtin_lookup() -> dict[str, FilterField]:
    """Folded word -> field, for the registered fields."""
    if not _LOOKUP:
        for f in FIELDS.values():
            for word in (f.name, *f.words):
                _LOOKUP[_fold(word)] = f
                if not word.isascii():
                    # Taiwan's wording read back (联系过 is shown as 聯絡過, typed back as such).
                    _LOOKUP.setdefault(_fold(to_traditional(word)), f)
    return _LOOKUP


# -- values -----------------------------------------------------------------------------------

_OPS = {">": ">", "<": "<", ">=": ">=", "<=": "<=", "=": "=", "==": "=", "!=": "!="}
_OP_RE = re.compile(r"^(>=|<=|!=|==|>|<|=)?\s*(.*)$")
_NUMBER_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(k|m|w|万|千)?$", re.I)
_SCALE = {"k": 1000, "千": 1000, "m": 1_000_000, "w": 10_000, "万": 10_000}
_DAYS_RE = re.compile(r"^(\d{1,5})\s*(d|day|days|天|日)?(?:内)?$", re.I)
_WEEKS_RE = re.compile(r"^(\d{1,4})\s*(w|wk|week|weeks|周|星期)(?:内)?$", re.I)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _fold(word: str) -> str:
    return to_simplified(word).casefold().replace("＞", ">").replace("＜", "<").replace("＝", "=")


def _number(text: str) -> Decimal | None:
    m = _NUMBER_RE.match(text.replace(",", "").strip())
    if not m:
        return None
    try:
        value = Decimal(m.group(1))
    except InvalidOperation:
        return None
    return value * _SCALE[m.group(2).lower()] if m.group(2) else value


def _days(text: str) -> int | None:
    if m := _DAYS_RE.match(text.strip()):
        return int(m.group(1))
    if m := _WEEKS_RE.match(text.strip()):
        return int(m.group(1)) * 7
    return None


def _day(text: str) -> date | None:
    if not _ISO_RE.match(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _compare(op: str, left: Any, right: Any) -> ColumnElement[bool]:
    ops: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    return ops[op](left, right)


def _definite(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """NULL (no value) reads as false, so `not` of it is true."""
    return func.coalesce(cond, false())


def _spellings(word: str) -> list[str]:
    """A typed value and its other script (上海 / 廣州 / 广州), lower-cased, for matching."""
    forms = {word.casefold(), to_simplified(word).casefold(), to_traditional(word).casefold()}
    return sorted(forms)


def _text_match(column: Any, values: list[str], *, contains: bool = False) -> ColumnElement[bool]:
    """Any of `values` (case-insensitive; `*` matches any characters) against `column`."""
    low = func.lower(column)
    ways: list[ColumnElement[bool]] = []
    for value in values:
        for form in _spellings(value):
            if "*" in form or contains:
                escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = escaped.replace("*", "%")
                if contains and "*" not in form:
                    pattern = f"%{pattern}%"
                ways.append(low.like(pattern, escape="\\"))
            else:
                ways.append(low == form)
    return _definite(and_(column.is_not(None), or_(*ways)))


# -- the built-in fields -----------------------------------------------------------------------


def _dialect(ctx: Ctx) -> str:
    return ctx.session.get_bind().dialect.name


_PLAIN_TAG = re.compile(r"^[a-z0-9 .:+#&@/'-]+$")


def _tag_in_text(tag: str) -> ColumnElement[bool] | None:
    """A cheap test that must hold when the stored JSON holds `tag`: its JSON text `"vip"` in
    the column's text (no JSON parsed per customer). Only for tags JSON writes as they are
    (no quotes, backslashes or non-ASCII, which it escapes); None for the others."""
    if not _PLAIN_TAG.match(tag):
        return None
    return cast(Customer.tags, Text).contains(f'"{tag}"', autoescape=True)


def _tags(ctx: Ctx, values: list[str]) -> ColumnElement[bool]:
    wanted = sorted({v.casefold() for value in values for v in _spellings(value)})
    if _dialect(ctx) == "postgresql":
        exact = [cast(Customer.tags, JSONB).contains([tag]) for tag in wanted]
    else:
        each = func.json_each(Customer.tags).table_valued("value")
        exact = [exists(select(1).select_from(each).where(each.c.value == tag)) for tag in wanted]
    # Most customers lack the tag: the text test rejects them before any JSON is parsed.
    ways = []
    for tag, test in zip(wanted, exact, strict=True):
        quick = _tag_in_text(tag)
        ways.append(test if quick is None else and_(quick, test))
    return or_(*ways)


def _owner(ctx: Ctx, values: list[str]) -> ColumnElement[bool]:
    ids = []
    for value in values:
        if _fold(value) in {"me", "我", "mine", "我的"}:
            ids.append(ctx.actor.id)
        else:
            ids.append(resolve_user(ctx, value).id)
    return Customer.owner_id.in_(ids)


def _team(ctx: Ctx, values: list[str]) -> ColumnElement[bool]:
    # Folded in Python on both sides: a stored name may be Traditional (華東) or non-ASCII
    # (SQLite's lower() is ASCII-only), and teams are few enough to read whole.
    wanted = {fold(v) for v in values}
    teams = ctx.session.execute(select(Team.id, Team.name, Team.external_id))
    found = [
        tid
        for tid, name, ext in teams
        if fold(name) in wanted or (ext is not None and fold(ext) in wanted)
    ]
    if not found:
        raise Invalid("segment.no_team", team=", ".join(values))
    members = select(User.id).where(User.team_id.in_(found))
    return Customer.owner_id.in_(members)


def _contacted_since(ctx: Ctx, days: int) -> ColumnElement[bool]:
    since = ctx.now() - timedelta(days=days)
    return exists(
        select(1).where(
            Interaction.customer_id == Customer.id,
            Interaction.occurred_at >= since,
            Interaction.deleted_at.is_(None),
        )
    )


def _open_deal(ctx: Ctx, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
    open_stages = [s.name for s in ctx.pipeline.open_stages]
    return exists(
        select(1).where(Deal.customer_id == Customer.id, Deal.stage.in_(open_stages), *conds)
    )


def _stage(ctx: Ctx, values: list[str]) -> ColumnElement[bool]:
    names = []
    for value in values:
        stage = _find_stage(ctx, value)
        if stage is None:
            raise Invalid(
                "segment.no_stage",
                stage=value,
                stages=", ".join(s.name for s in ctx.pipeline.stages),
            )
        names.append(stage)
    return exists(select(1).where(Deal.customer_id == Customer.id, Deal.stage.in_(names)))


# Readers of a stage's words in each language (the catalogue lives in handlers/, which adds
# its reader here): each returns the stage's name or None.
STAGE_READERS: list[Callable[[Pipeline, str], str | None]] = []


def add_stage_reader(reader: Callable[[Pipeline, str], str | None]) -> None:
    """Let the filters read stage names as people write them (`提案`, `方案`)."""
    if reader not in STAGE_READERS:
        STAGE_READERS.append(reader)


def _find_stage(ctx: Ctx, word: str) -> str | None:
    for reader in STAGE_READERS:
        if (found := reader(ctx.pipeline, word)) is not None:
            return found
    wanted = _fold(word)
    for stage in ctx.pipeline.stages:
        labels = {stage.name.casefold()}
        for locale in ("zh", "zh-Hant"):
            label = stage.label(locale)
            if label:
                labels.add(_fold(label))
        if wanted in labels:
            return stage.name
    return None


def _amount(ctx: Ctx, cmp: Compare) -> ColumnElement[bool]:
    return _open_deal(ctx, _compare(cmp.op, Deal.amount, cmp.value))


# Aggregates (a count of open deals, the latest NPS, the mean CSAT, the best score) are
# computed once per statement as a set of customer ids, not once per customer: under an `or`
# the database cannot turn a correlated aggregate into a join, and an admin's 10,000 customers
# each paid an index probe and a sort (EXPLAIN: CORRELATED SCALAR SUBQUERY; PostgreSQL: SubPlan
# per row). The set is kept to the reader's book, so a rep's stays small.


def _in_book(ctx: Ctx, customer_id: Any) -> list[ColumnElement[bool]]:
    """Keep a set to the reader's customers (an admin's book is every one: no test). The
    outer statement applies the visibility filter either way; this only keeps the set small."""
    if ctx.actor.role == Role.admin:
        return []
    # Not correlated: the statement around it reads customers too.
    return [customer_id.in_(visible_customer_ids(ctx.actor).correlate(None))]


def _holds(op: str, left: Any, right: Any) -> bool:
    """The comparison on Python values (what a customer with no rows at all counts as)."""
    return bool(
        {
            ">": left > right,
            "<": left < right,
            ">=": left >= right,
            "<=": left <= right,
            "=": left == right,
            "!=": left != right,
        }[op]
    )


def _per_customer(
    grouped: Any, aggregate: Any, cmp: Compare, *, empty: Any = None
) -> ColumnElement[bool]:
    """Customers whose `aggregate` over their rows in `grouped` (grouped by customer)
    compares true; `empty` is the value of a customer with no rows (None: never true)."""
    if empty is not None and _holds(cmp.op, empty, cmp.value):
        # Customers without rows hold too: leave out those whose rows fail.
        failing = grouped.having(not_(_compare(cmp.op, aggregate, cmp.value)))
        return Customer.id.not_in(failing)
    return Customer.id.in_(grouped.having(_compare(cmp.op, aggregate, cmp.value)))


def _deals(ctx: Ctx, cmp: Compare) -> ColumnElement[bool]:
    # Counted per customer by the (stage, customer) index, and tested last (cost 3): a set
    # of every customer's count would read all open deals' rows first (SQLite: 38 ms at
    # 30,000 deals, more than counting for the customers the other filters leave).
    open_stages = [s.name for s in ctx.pipeline.open_stages]
    count = (
        select(func.count())
        .where(Deal.customer_id == Customer.id, Deal.stage.in_(open_stages))
        .scalar_subquery()
    )
    return _compare(cmp.op, count, int(cmp.value))


def _nps(ctx: Ctx, cmp: Compare) -> ColumnElement[bool]:
    ranked = (
        select(
            Feedback.customer_id,
            Feedback.score,
            func.row_number()
            .over(
                partition_by=Feedback.customer_id,
                order_by=(Feedback.created_at.desc(), Feedback.id.desc()),
            )
            .label("nth"),
        )
        .where(Feedback.kind == "nps", *_in_book(ctx, Feedback.customer_id))
        .subquery()
    )
    latest = select(ranked.c.customer_id).where(
        ranked.c.nth == 1, _compare(cmp.op, ranked.c.score, cmp.value)
    )
    return Customer.id.in_(latest)


def _csat(ctx: Ctx, cmp: Compare) -> ColumnElement[bool]:
    grouped = (
        select(Feedback.customer_id)
        .where(Feedback.kind == "csat", *_in_book(ctx, Feedback.customer_id))
        .group_by(Feedback.customer_id)
    )
    return _per_customer(grouped, func.avg(Feedback.score), cmp)


def _score(ctx: Ctx, cmp: Compare) -> ColumnElement[bool]:
    """A customer's score is its best open deal's (1-99); a customer with no open deal has none.

    Read from the stored scores (crm_core/marketing/scores.py), brought up to date first.
    """
    scores.stored_scores(ctx)
    open_stages = [s.name for s in ctx.pipeline.open_stages]
    grouped = (
        select(Deal.customer_id)
        .join(DealScore, DealScore.deal_id == Deal.id)
        .where(Deal.stage.in_(open_stages), *_in_book(ctx, Deal.customer_id))
        .group_by(Deal.customer_id)
    )
    return _per_customer(grouped, func.max(DealScore.score), cmp)


def _tier(ctx: Ctx, values: list[str]) -> ColumnElement[bool]:
    prog = tier_service.program(ctx.session)
    if prog is None:
        raise Invalid("error.tiers_none")
    wanted = []
    for value in values:
        tier = prog.find(value)
        if tier is None:
            known = [lv.name for lv in prog.levels]
            raise Invalid("segment.no_tier", tier=value, tiers=", ".join(known), first=known[0])
        wanted.append(tier)
    return tier_service.tier_clause(wanted)


def _builtins() -> None:
    register(
        FilterField(
            "name",
            ("名称", "名字"),
            ValueKind.text,
            lambda c, v: _text_match(Customer.name, v, contains=True),
            "name acme",
        )
    )
    register(
        FilterField(
            "city",
            ("城市",),
            ValueKind.text,
            lambda c, v: _text_match(Customer.city, v),
            "city Shanghai",
        )
    )
    register(
        FilterField(
            "industry",
            ("行业",),
            ValueKind.text,
            lambda c, v: _text_match(Customer.industry, v),
            "industry logistics",
        )
    )
    register(FilterField("tag", ("tags", "标签"), ValueKind.text, _tags, "tag vip", 1))
    register(FilterField("owner", ("负责人",), ValueKind.text, _owner, "owner @bob"))
    register(FilterField("team", ("团队",), ValueKind.text, _team, "team East"))
    register(
        FilterField(
            "quiet",
            ("沉默", "未联系"),
            ValueKind.days,
            lambda c, d: not_(_contacted_since(c, d)),
            "quiet 30d",
            2,
        )
    )
    register(
        FilterField(
            "contacted",
            ("联系过", "已联系"),
            ValueKind.days,
            _contacted_since,
            "contacted 7d",
            2,
        )
    )
    register(
        FilterField(
            "added",
            ("新增", "新建"),
            ValueKind.days,
            lambda c, d: Customer.created_at >= c.now() - timedelta(days=d),
            "added 30d",
        )
    )
    register(FilterField("stage", ("阶段",), ValueKind.text, _stage, "stage proposal", 2))
    register(FilterField("amount", ("金额",), ValueKind.number, _amount, "amount >50k", 2))
    # Sets computed once (see _per_customer): a lookup per customer.
    register(FilterField("deals", ("商机数",), ValueKind.number, _deals, "deals >=2", 3))
    register(FilterField("nps", ("净推荐值",), ValueKind.number, _nps, "nps <7", 1))
    register(FilterField("csat", ("满意度",), ValueKind.number, _csat, "csat <=3", 1))
    register(FilterField("tier", ("等级", "会员等级"), ValueKind.text, _tier, "tier gold", 2))
    register(FilterField("score", ("评分", "分数"), ValueKind.number, _score, "score >60", 1))


_builtins()


# -- custom fields -----------------------------------------------------------------------------

_CUSTOM_KIND = {
    "text": ValueKind.text,
    "choice": ValueKind.text,
    "number": ValueKind.number,
    "date": ValueKind.date,
    "yesno": ValueKind.yesno,
}


def _custom_field(field: CustomField) -> FilterField:
    value = custom_text(Customer.custom, field.name)
    kind = _CUSTOM_KIND[field.kind]

    def build(ctx: Ctx, typed: Any) -> ColumnElement[bool]:
        if kind is ValueKind.text:
            return _text_match(value, typed)
        if kind is ValueKind.number:
            number = cast(value, Numeric(20, 4))
            return _definite(_compare(typed.op, number, typed.value))
        if kind is ValueKind.date:
            # Stored as ISO text: the text order is the day order.
            return _definite(_compare(typed.op, value, typed.value.isoformat()))
        return _definite(custom_bool(Customer.custom, field.name) == typed)

    examples = {
        ValueKind.text: "X",
        ValueKind.number: ">100",
        ValueKind.date: ">2026-01-01",
        ValueKind.yesno: "yes",
    }
    return FilterField(field.name, (), kind, build, f"{field.name} {examples[kind]}", 1)


# -- reading ---------------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|([()（）])|([^\s()（）"“「]+)')
AND_WORDS = frozenset({"and", "且", "并且", "和", "与"})
OR_WORDS = frozenset({"or", "或", "或者"})
NOT_WORDS = frozenset({"not", "非", "不是", "排除"})
WITHIN_WORDS = frozenset({"within", "in", "last", "内", "最近"})


@dataclass(frozen=True)
class Token:
    """A word of the filter text; `quoted` values are never read as field words."""

    text: str
    quoted: bool = False

    @property
    def key(self) -> str:
        """The word folded as field and joining words are compared."""
        return "" if self.quoted else _fold(self.text)


def tokens(text: str) -> list[Token]:
    """The words of `text`: quoted phrases whole, parentheses apart."""
    out = []
    for m in _TOKEN.finditer(text):
        quoted = next((g for g in m.groups()[:3] if g is not None), None)
        if quoted is not None:
            out.append(Token(quoted, quoted=True))
        elif m.group(4):
            out.append(Token("(" if m.group(4) in "(（" else ")"))
        else:
            out.append(Token(m.group(5)))
    return out


# A person's filters are a few words; these bounds keep a pasted wall of text from the reader's
# recursion and the database from a statement thousands of tests long.
MAX_WORDS = 200
MAX_DEPTH = 20

# The parse tree: ("and", [..]), ("or", [..]), ("not", node), ("leaf", field, value).
Node = tuple[Any, ...]


class Reader:
    """A recursive-descent reader of filter words into a tree, with the fields it knows."""

    def __init__(self, ctx: Ctx, text: str) -> None:
        self.ctx = ctx
        self.words = tokens(text)
        self.pos = 0
        self.depth = 0
        self.fields = dict(FIELDS)
        self.lookup: dict[str, FilterField] = dict(_builtin_lookup())
        for declared in fields_of(ctx.session, "customer"):
            custom = _custom_field(declared)
            self.lookup.setdefault(declared.name, custom)
            # `custom.stage` reaches a custom field a built-in word shadows.
            self.lookup[f"custom.{declared.name}"] = custom

    def _peek(self) -> Token | None:
        return self.words[self.pos] if self.pos < len(self.words) else None

    def _next(self) -> Token:
        token = self.words[self.pos]
        self.pos += 1
        return token

    def read(self) -> Node:
        """The whole text as a tree; Invalid names the first word not understood."""
        if not self.words:
            raise Invalid("segment.empty", fields=self.names())
        if len(self.words) > MAX_WORDS:
            raise Invalid("segment.too_long", limit=MAX_WORDS)
        node = self._or()
        if (left := self._peek()) is not None:
            self._unknown(left)
        return node

    def names(self) -> str:
        """The field words, for messages."""
        return ", ".join(f.example for f in self.fields.values())

    def _unknown(self, token: Token) -> None:
        raise Invalid("segment.unknown_word", word=token.text, fields=self.names())

    def _or(self) -> Node:
        parts = [self._and()]
        while (tok := self._peek()) is not None and tok.key in OR_WORDS:
            self._next()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def _and(self) -> Node:
        parts = [self._not()]
        while (tok := self._peek()) is not None and tok.key not in OR_WORDS and tok.text != ")":
            if tok.key in AND_WORDS:
                self._next()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def _not(self) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Invalid("segment.too_deep", limit=MAX_DEPTH)
            return self._not_or_group()
        finally:
            self.depth -= 1

    def _not_or_group(self) -> Node:
        tok = self._peek()
        if tok is None:
            raise Invalid("segment.dangling", fields=self.names())
        if tok.key in NOT_WORDS:
            self._next()
            return ("not", self._not())
        if tok.text == "(" and not tok.quoted:
            self._next()
            inner = self._or()
            close = self._peek()
            if close is None or close.text != ")":
                raise Invalid("segment.unclosed")
            self._next()
            return inner
        return self._leaf()

    def _leaf(self) -> Node:
        tok = self._next()
        field = self.lookup.get(tok.key)
        if field is None:
            field, glued = self._glued(tok)
            if field is None:
                self._unknown(tok)
            assert field is not None
            value_tokens = [glued]
        else:
            value_tokens = []
        return ("leaf", field, self._value(field, value_tokens))

    def _glued(self, tok: Token) -> tuple[FilterField | None, Token]:
        """`城市上海`: a Chinese field word written against its value."""
        key = tok.key
        for word in sorted(self.lookup, key=len, reverse=True):
            if not word.isascii() and key.startswith(word) and len(key) > len(word):
                return self.lookup[word], Token(tok.text[len(word) :])
        return None, tok

    def _take(self, field: FilterField) -> Token:
        tok = self._peek()
        if tok is None or (not tok.quoted and tok.text in "()"):
            raise Invalid("segment.no_value", field=field.name, example=field.example)
        return self._next()

    def _value(self, field: FilterField, given: list[Token]) -> Any:
        raw = given[0] if given else self._take(field)
        if field.kind is ValueKind.text:
            text = raw.text
            # `Shanghai, Beijing` and `Shanghai,Beijing`: any of them.
            while text.endswith((",", "，")) and self._peek() is not None:
                text += self._next().text
            values = [v.strip() for v in re.split(r"[,，]", text) if v.strip()]
            if not values:
                raise Invalid("segment.no_value", field=field.name, example=field.example)
            return values
        if field.kind is ValueKind.yesno:
            word = _fold(raw.text)
            if word in YES:
                return True
            if word in NO:
                return False
            raise Invalid(
                "segment.bad_value", field=field.name, value=raw.text, example=field.example
            )
        if field.kind is ValueKind.days:
            word = raw.text
            if _fold(word) in WITHIN_WORDS and self._peek() is not None:
                word = self._next().text
            days = _days(_fold(word))
            # `30 days`: the unit as its own word.
            nxt = self._peek()
            if (
                days is not None
                and nxt is not None
                and _fold(nxt.text)
                in {
                    "d",
                    "day",
                    "days",
                    "天",
                    "日",
                    "天内",
                }
            ):
                self._next()
            if days is None:
                raise Invalid(
                    "segment.bad_value", field=field.name, value=raw.text, example=field.example
                )
            return days
        # A comparison: the operator may stand alone (`amount > 50k`).
        text = _fold(raw.text)
        if text in _OPS and self._peek() is not None:
            text += _fold(self._next().text)
        m = _OP_RE.match(text)
        op = _OPS.get(m.group(1) or "=", "=") if m else "="
        rest = m.group(2) if m else text
        value: Any = _day(rest) if field.kind is ValueKind.date else _number(rest)
        if value is None:
            raise Invalid(
                "segment.bad_value", field=field.name, value=raw.text, example=field.example
            )
        return Compare(op, value)


def cost(node: Node) -> int:
    """The dearest test in a tree (see FilterField.cost)."""
    if node[0] == "leaf":
        return int(node[1].cost)
    if node[0] == "not":
        return cost(node[1])
    return max(cost(n) for n in node[1])


def compile_tree(ctx: Ctx, node: Node) -> ColumnElement[bool]:
    """The tree as one SQL condition on Customer, cheap parts first (same meaning, less work)."""
    kind = node[0]
    if kind in ("and", "or"):
        parts = [compile_tree(ctx, n) for n in sorted(node[1], key=cost)]
        return and_(*parts) if kind == "and" else or_(*parts)
    if kind == "not":
        return not_(compile_tree(ctx, node[1]))
    field: FilterField = node[1]
    return field.build(ctx, node[2])


def condition(ctx: Ctx, text: str) -> ColumnElement[bool]:
    """The filter text as one SQL condition on Customer (access is applied by the caller)."""
    if not text.strip():
        return true()
    return compile_tree(ctx, Reader(ctx, text).read())
