"""Report verbs: win rate, funnel, cycle, activity (`report ...`) and `forecast`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import list_currencies

from crm_core.analytics.activity import ActivityReport, activity
from crm_core.analytics.cycle import CycleReport, cycle
from crm_core.analytics.forecast import ForecastReport, forecast
from crm_core.analytics.funnel import FunnelReport, deals_reaching, funnel, funnel_steps
from crm_core.analytics.periods import ALL_TIME, Period, parse_period
from crm_core.analytics.scope import DIM_WORDS, Dim, book_currency, parse_dim
from crm_core.analytics.win_rate import WinRateReport, win_rate
from crm_core.errors import Invalid
from crm_core.models import Role
from crm_core.resolve import resolve_deal, resolve_user
from crm_core.rules import home_currency
from crm_core.services.deals import first_yuan, set_forecast_category
from crm_core.services.quotas import set_quota
from crm_core.text import char_view
from handlers import charts
from handlers import format as fmt
from handlers.args import Arg, Kind, read_stage
from handlers.grammar import said_yuan, take_amount
from handlers.registry import Handler, Request, Verb
from handlers.reply import Button, Field, Reply, Section
from handlers.verbs.tickets import take_ticket_report, ticket_report_reply

# Report names as typed (English and Chinese) -> the report.
REPORT_NAMES: dict[str, str] = {
    "win rate": "win-rate",
    "win-rate": "win-rate",
    "winrate": "win-rate",
    "wins": "win-rate",
    "赢单率": "win-rate",
    "胜率": "win-rate",
    "成交率": "win-rate",
    "funnel": "funnel",
    "漏斗": "funnel",
    "销售漏斗": "funnel",
    "cycle": "cycle",
    "sales cycle": "cycle",
    "周期": "cycle",
    "销售周期": "cycle",
    "activity": "activity",
    "活动": "activity",
    "forecast": "forecast",
    "预测": "forecast",
}
GROUPED = ("win-rate", "cycle")
CATEGORY_WORDS: dict[str, str | None] = {
    "commit": "commit",
    "承诺": "commit",
    "确定": "commit",
    "best case": "best_case",
    "best_case": "best_case",
    "best-case": "best_case",
    "最佳": "best_case",
    "乐观": "best_case",
    "pipeline": "pipeline",
    "管道": "pipeline",
    "渠道": "pipeline",
    "auto": None,
    "clear": None,
    "自动": None,
}
_BY = re.compile(r"(?:^|\s)by\s+(\S+)", re.I)
_CN_BY = re.compile(
    r"按\s*("
    + "|".join(sorted((w for w in DIM_WORDS if not w.isascii()), key=len, reverse=True))
    + r")"
)
# `by`/`按` with no group it knows after it: the word that follows, if any.
_BARE_BY = re.compile(r"(?:(?:^|\s)by(?:\s+|$)|按\s*)(\S*)", re.I)
_CURRENCY = re.compile(r"(?:^|\s)(?:in\s+)?([A-Za-z]{3})\s*$")
_DEAL_REF = re.compile(r"^#\d+\b")
# `in` and three letters at the end of a report line: meant as a currency, whatever the code.
_NOT_CURRENCY = re.compile(r"(?:^|\s)in\s+([A-Za-z]{3})\s*$", re.I)


@dataclass(frozen=True)
class Spec:
    """A parsed report request: which report, grouped how, over which period, in which currency."""

    name: str
    dim: Dim | None
    period: Period | None
    currency: str | None
    rest: str = ""
    # Draw it as a chart (`chart ...`) rather than offer a Chart button.
    chart: bool = False

    def command(self) -> str:
        """The request written back in the grammar (`win rate by month 2027-Q1 in USD`)."""
        words = [self.name.replace("-", " ")]
        if self.dim is not None:
            words.append(f"by {self.dim.value}")
        if self.period is ALL_TIME:
            words.append("all")
        elif self.period is not None:
            words.append(period_text(self.period))
        if self.currency:
            words.append(f"in {self.currency}")
        return " ".join(w for w in words if w)


CHARTS = ("win-rate", "funnel", "forecast")


def with_chart(req: Request, spec: Spec, reply: Reply, draw: Callable[[], bytes]) -> Reply:
    """Attach the chart when one was asked for; otherwise offer a Chart button."""
    if spec.chart:
        reply.image = draw()
    else:
        reply.buttons.append(Button.run(req.t("button.chart"), "chart " + spec.command()))
    return reply


def _take_name(text: str) -> tuple[str | None, str]:
    view = char_view(text)
    for form in sorted(REPORT_NAMES, key=len, reverse=True):
        if view.startswith(form) and (
            len(view) == len(form) or not form[-1].isascii() or not view[len(form)].isalnum()
        ):
            return REPORT_NAMES[form], text[len(form) :].strip()
    return None, text


def _take_currency(text: str) -> tuple[str | None, str]:
    m = _CURRENCY.search(text)
    if (
        m
        and m.group(1).upper() in list_currencies()
        and (m.group(1).isupper() or "in " in m.group(0).lower())
    ):
        return m.group(1).upper(), text[: m.start()].strip()
    return None, text


def parse_spec(text: str, today: date, *, name: str | None = None) -> Spec:
    """`win rate by team this quarter in USD` -> Spec; Invalid says what to type."""
    rest = text.strip()
    if name is None:
        name, rest = _take_name(rest)
        if name is None:
            raise Invalid("error.report_unknown", value=rest.split()[0] if rest else "")
    dim: Dim | None = None
    # Searched in the `char_view` (按團隊 is 按团队), cut from the typed text at the same place.
    view = char_view(rest)
    m = _BY.search(view) or _CN_BY.search(view)
    if m is None and (bare := _BARE_BY.search(view)):
        # The word after `by` / `按` (a space may come between) is the group it cannot read.
        word = rest[bare.start(1) : bare.end(1)]
        raise Invalid("error.report_dim", value=word, dims=", ".join(d.value for d in Dim))
    if m is not None:
        dim = parse_dim(m.group(1))
        rest = (rest[: m.start()] + " " + rest[m.end() :]).strip()
        if name not in GROUPED:
            raise Invalid("error.report_not_grouped", report=name)
    currency, rest = _take_currency(rest)
    if rest and (code := _NOT_CURRENCY.search(rest)):
        # `in XYZ` with a code no currency has: say so, not that the period is unreadable.
        try:
            parse_period(rest, today)
        except Invalid as exc:
            try:
                before = parse_period(rest[: code.start()], today)
            except Invalid:
                before = None
            spec = Spec(name, dim, before, "USD")
            raise Invalid(
                "error.report_currency",
                value=code.group(1),
                example=("" if name == "forecast" else "report ") + spec.command(),
            ) from exc
    if name == "funnel" and rest:
        try:
            return Spec(name, dim, parse_period(rest, today), currency)
        except Invalid:
            # `report funnel qualified [period]`: the deals that reached a stage (row buttons);
            # the handler checks the stage against the configured ones.
            first = rest.split()[0]
            return Spec(name, dim, parse_period(rest[len(first) :], today), currency, first)
    return Spec(name, dim, parse_period(rest, today), currency)


def _spec(req: Request, text: str, *, name: str | None = None) -> Spec:
    """`parse_spec` for this reader: a report named in a refusal is named in their words."""
    try:
        return parse_spec(text, _today(req), name=name)
    except Invalid as exc:
        report = exc.params.get("report")
        local = next((w for w, n in REPORT_NAMES.items() if n == report and not w.isascii()), None)
        if exc.key != "error.report_not_grouped" or not req.t.chinese or local is None:
            raise
        raise Invalid(exc.key, report=req.t.command(local)) from exc


def pct(value: Decimal | None) -> str:
    """0.4321 -> `43.2%`, or a dash: rounded once, half up, from the exact share."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def days(value: Decimal | None) -> str:
    """Days to one place, or a dash."""
    return "—" if value is None else f"{value:.1f}"


def _scope(req: Request, book: bool = False) -> str:
    """Whose deals a report reads, as its title says: the win rate's are the deals you (your
    team) own; the funnel's and cycle's (`book`) those of your (your team's) customers."""
    return req.t(
        {
            Role.rep: "report.scope_own_book" if book else "report.scope_own",
            Role.manager: "report.scope_team_book" if book else "report.scope_team",
            Role.admin: "report.scope_all",
        }[req.ctx.actor.role]
    )


def _title(
    req: Request, key: str, spec: Spec, period: Period, currency: str | None, book: bool = False
) -> str:
    t = req.t
    parts = [t(key), _scope(req, book)]
    if spec.dim is not None:
        parts.append(t("report.by", dim=t(f"report.dim.{spec.dim.value}")))
    parts.append(t("report.all_time") if period is ALL_TIME else period.label)
    if currency:
        parts.append(currency)
    return " · ".join(parts)


def _group(req: Request, name: str | None) -> str:
    return name if name is not None else req.t("report.none")


def _others(req: Request, others: dict[str, int], spec: Spec) -> str:
    """The note on deals in other currencies, suggesting the same report (its grouping and
    period kept) in the first of them."""
    if not others:
        return ""
    listed = ", ".join(f"{n} {c}" for c, n in sorted(others.items()))
    same = replace(spec, currency=sorted(others)[0], chart=False)
    example = ("" if spec.name == "forecast" else "report ") + same.command()
    return req.t("report.other_currencies", listed=listed, example=example)


def _today(req: Request) -> date:
    return req.ctx.now().astimezone(req.ctx.tz).date()


def report(req: Request) -> Reply:
    """`report win rate|funnel|cycle|activity [by DIM] [period] [in CUR]`."""
    if not req.args:
        raise Invalid("usage.report")
    tickets_rest = take_ticket_report(req.args)
    if tickets_rest is not None:
        return ticket_report_reply(req, tickets_rest)
    spec = _spec(req, req.args)
    return run_report(req, spec)


def run_report(req: Request, spec: Spec) -> Reply:
    """Build the reply of a parsed report request."""
    if spec.name == "win-rate":
        return win_rate_reply(req, spec)
    if spec.name == "funnel":
        if spec.rest:
            return funnel_deals_reply(req, spec)
        return funnel_reply(req, spec)
    if spec.name == "cycle":
        return cycle_reply(req, spec)
    if spec.name == "activity":
        return activity_reply(req, spec)
    return forecast_reply(req, spec)


def win_rate_reply(req: Request, spec: Spec) -> Reply:
    """Won, lost, win rate and won value per group and in total."""
    t = req.t
    period = spec.period or ALL_TIME
    rep: WinRateReport = win_rate(req.ctx, dim=spec.dim, period=period, currency=spec.currency)

    def quota_text(quota: Decimal | None, share: Decimal | None) -> str:
        if quota is None:
            return ""
        return " · " + t(
            "report.quota_attained", quota=fmt.money(quota, rep.currency, t), attained=pct(share)
        )

    items = [
        t(
            "report.win_rate_row",
            group=_group(req, r.group),
            won=r.won,
            lost=r.lost,
            rate=pct(r.win_rate),
            value=fmt.money(r.won_value, rep.currency, t),
        )
        + quota_text(r.quota, r.attainment)
        for r in rep.rows
    ]
    total = rep.total
    fields = [
        Field(t("report.won"), str(total.won)),
        Field(t("report.lost"), str(total.lost)),
        Field(t("report.win_rate"), pct(total.win_rate)),
        Field(t("report.won_value"), fmt.money(total.won_value, rep.currency, t)),
    ]
    if total.quota is not None:
        fields.append(Field(t("report.quota"), fmt.money(total.quota, rep.currency, t)))
        # The label states the rule: the won value shown over the quota shown (every row too).
        fields.append(Field(t("report.attainment"), pct(total.attainment)))
    text = _others(req, rep.other_currencies, spec)
    if not total.won and not total.lost:
        text = (t("report.nothing_closed") + ("\n" + text if text else "")).strip()
    reply = Reply(
        title=_title(req, "report.win_rate_title", spec, period, rep.currency),
        items=items,
        fields=fields,
        text=text,
        shareable=True,
    )
    return with_chart(req, spec, reply, lambda: charts.win_rate_chart(t, reply.title or "", rep))


def funnel_reply(req: Request, spec: Spec) -> Reply:
    """Per stage: reached, went on, conversion and drop-off, by count and value."""
    t = req.t
    period = spec.period or ALL_TIME
    rep: FunnelReport = funnel(req.ctx, period=period, currency=spec.currency)
    items = []
    buttons = []
    suffix = "" if period is ALL_TIME else f" {period_text(period)}"
    for row in rep.rows:
        name = fmt.stage(t, row.stage.name)
        if row.advanced is None:
            items.append(
                t(
                    "report.funnel_last",
                    stage=name,
                    reached=row.reached,
                    value=fmt.money(row.reached_value, rep.currency, t),
                )
            )
        else:
            items.append(
                t(
                    "report.funnel_row",
                    stage=name,
                    reached=row.reached,
                    value=fmt.money(row.reached_value, rep.currency, t),
                    advanced=row.advanced,
                    conversion=pct(row.conversion),
                    drop=pct(row.drop_off),
                    value_conversion=pct(row.value_conversion),
                )
            )
        if row.reached:
            buttons.append(
                Button.run(
                    t("button.funnel_deals", stage=name, count=row.reached),
                    f"report funnel {row.stage.name}{suffix}",
                )
            )
    fields = [Field(t("report.deals"), str(rep.deals))]
    reply = Reply(
        title=_title(req, "report.funnel_title", spec, period, rep.currency, book=True),
        items=items,
        fields=fields,
        buttons=buttons,
        text=_others(req, rep.other_currencies, spec),
        shareable=True,
    )
    return with_chart(req, spec, reply, lambda: charts.funnel_chart(t, reply.title or "", rep))


def period_text(period: Period) -> str:
    """A period written back in the grammar (for buttons that re-run a report): its label when
    that reads back as the same days (`2026`, `2026-Q4`), else `from D to D`."""
    if period.start and period.end:
        try:
            again = parse_period(period.label, period.start)
        except Invalid:
            again = None
        if again is not None and (again.start, again.end) == (period.start, period.end):
            return period.label
        last = period.end - timedelta(days=1)
        return f"from {period.start.isoformat()} to {last.isoformat()}"
    return ""


def funnel_deals_reply(req: Request, spec: Spec) -> Reply:
    """The deals that reached one funnel stage (a funnel row's button)."""
    t, ctx = req.t, req.ctx
    wanted = read_stage(ctx.pipeline, spec.rest)
    stage = next((s for s in funnel_steps(ctx) if s.name == wanted), None)
    if stage is None:
        raise Invalid(
            "error.report_stage",
            value=spec.rest,
            stages=", ".join(fmt.stage(t, s.name) for s in funnel_steps(ctx)),
        )
    period = spec.period or ALL_TIME
    found, total = deals_reaching(ctx, stage, period=period, currency=spec.currency)
    title = t("report.funnel_deals_title", stage=fmt.stage(t, stage.name), count=total)
    if not found:
        return Reply(text=title, status="info")
    return Reply(
        title=title,
        items=[fmt.deal_line(t, d, with_customer=d.customer) for d in found],
        text=t("report.shown_of", shown=len(found), count=total) if total > len(found) else "",
    )


def cycle_reply(req: Request, spec: Spec) -> Reply:
    """Days from opening to close (won and lost) and mean days in each stage."""
    t = req.t
    period = spec.period or ALL_TIME
    rep: CycleReport = cycle(req.ctx, dim=spec.dim, period=period, currency=spec.currency)
    items = [
        t(
            "report.cycle_row",
            group=_group(req, r.group),
            won=r.won,
            won_mean=days(r.won_days_mean),
            won_median=days(r.won_days_median),
            lost=r.lost,
            lost_mean=days(r.lost_days_mean),
        )
        for r in rep.rows
    ]
    total = rep.total
    fields = [
        Field(
            t("report.won_days"),
            t(
                "report.mean_median",
                mean=days(total.won_days_mean),
                median=days(total.won_days_median),
                count=total.won,
            ),
        ),
        Field(
            t("report.lost_days"),
            t(
                "report.mean_median",
                mean=days(total.lost_days_mean),
                median=days(total.lost_days_median),
                count=total.lost,
            ),
        ),
    ]
    stages = [
        t(
            "report.stage_time",
            stage=fmt.stage(t, s.stage.name),
            days=days(s.mean_days),
            count=s.moves,
        )
        for s in rep.stages
    ]
    return Reply(
        title=_title(req, "report.cycle_title", spec, period, rep.currency, book=True),
        items=items,
        fields=fields,
        sections=[Section(t("report.time_in_stage"), stages)],
        text=_others(req, rep.other_currencies, spec),
        shareable=True,
    )


def activity_reply(req: Request, spec: Spec) -> Reply:
    """Per person: interactions by kind, deals moved, won and lost."""
    t = req.t
    today = _today(req)
    # Default: the last seven days, today included.
    period = spec.period or Period(
        today - timedelta(days=6), today + timedelta(days=1), t("report.last_7_days")
    )
    rep: ActivityReport = activity(req.ctx, period)

    def line(kinds: dict[str, int], moved: int, won: int, lost: int) -> str:
        logged = " · ".join(f"{fmt.kind(t, k)} {n}" for k, n in kinds.items() if n)
        return t(
            "report.activity_counts",
            logged=logged or t("report.no_notes"),
            moved=moved,
            won=won,
            lost=lost,
        )

    items = []
    for r in rep.rows:
        who = (
            r.group if r.team is None or req.ctx.actor.role == Role.rep else f"{r.group} ({r.team})"
        )
        items.append(f"{who}: {line(r.kinds, r.moved, r.won, r.lost)}")
    total = rep.total
    return Reply(
        title=_title(req, "report.activity_title", spec, period, None),
        items=items,
        fields=[Field(t("report.total"), line(total.kinds, total.moved, total.won, total.lost))],
        shareable=True,
    )


def forecast_reply(req: Request, spec: Spec) -> Reply:
    """Open deals by expected close month with weighted amounts and forecast categories."""
    t = req.t
    today = _today(req)
    period = spec.period
    if period is None or period is ALL_TIME:
        period = parse_period("this quarter", today) or ALL_TIME
    rep: ForecastReport = forecast(req.ctx, period, currency=spec.currency)
    cur = rep.currency
    items = [
        t(
            "report.forecast_row",
            month=r.month,
            open=r.open,
            amount=fmt.money(r.amount, cur, t),
            weighted=fmt.money(r.weighted, cur, t),
            closed=fmt.money(r.closed, cur, t),
            commit=fmt.money(r.commit, cur, t),
            best_case=fmt.money(r.best_case, cur, t),
        )
        for r in rep.rows
    ]
    total = rep.total
    fields = [
        Field(t("forecast.closed"), fmt.money(total.closed, cur, t)),
        Field(t("forecast.commit"), fmt.money(total.commit, cur, t)),
        Field(t("forecast.best_case"), fmt.money(total.best_case, cur, t)),
        Field(t("forecast.pipeline"), fmt.money(total.pipeline, cur, t)),
        Field(t("forecast.weighted"), fmt.money(total.weighted, cur, t)),
    ]
    if rep.quota is not None:
        fields.append(Field(t("report.quota"), fmt.money(rep.quota, cur, t)))
        fields.append(Field(t("forecast.attainment"), pct(rep.attainment)))
    sections = []
    if rep.overdue_count:
        lines = [
            " · ".join(
                (
                    f"#{d.id} {d.title}",
                    d.customer,
                    fmt.money(d.amount, cur, t),
                    t("deal.closes", date=fmt.day(d.expected_close)),
                )
            )
            for d in rep.overdue
        ]
        if rep.overdue_count > len(rep.overdue):
            lines.append(t("report.shown_of", shown=len(rep.overdue), count=rep.overdue_count))
        sections.append(
            Section(
                t(
                    "forecast.overdue",
                    count=rep.overdue_count,
                    amount=fmt.money(rep.overdue_amount, cur, t),
                ),
                lines,
            )
        )
    notes = []
    if rep.undated:
        notes.append(t("forecast.undated", count=rep.undated))
    other = _others(req, rep.other_currencies, spec)
    if other:
        notes.append(other)
    reply = Reply(
        title=_title(req, "forecast.title", spec, period, cur),
        items=items,
        fields=fields,
        sections=sections,
        text="\n".join(notes),
        shareable=True,
    )
    return with_chart(req, spec, reply, lambda: charts.forecast_chart(t, reply.title or "", rep))


def forecast_verb(req: Request) -> Reply:
    """`forecast [period]`, or `forecast #12 commit` to set a deal's category."""
    args = req.args.strip()
    if _DEAL_REF.match(args) or _category_at_end(args) is not None:
        return set_category(req, args)
    spec = _spec(req, args, name="forecast")
    return forecast_reply(req, spec)


def _category_at_end(args: str) -> tuple[str, str | None] | None:
    view = char_view(args)
    for word in sorted(CATEGORY_WORDS, key=len, reverse=True):
        if view.endswith(" " + word) or (
            not word.isascii() and view.endswith(word) and len(view) > len(word)
        ):
            return args[: len(args) - len(word)].strip(), CATEGORY_WORDS[word]
    return None


def set_category(req: Request, args: str) -> Reply:
    """Put a deal in a forecast category (`auto` lets its stage decide again)."""
    t, ctx = req.t, req.ctx
    found = _category_at_end(args)
    if found is None:
        raise Invalid("error.forecast_category", value=args.split(" ", 1)[1] if " " in args else "")
    deal_q, category = found
    if not deal_q:
        raise Invalid("usage.forecast")
    deal = resolve_deal(ctx, deal_q)
    set_forecast_category(ctx, deal, category)
    shown = t(f"forecast.{category}") if category else t("forecast.auto")
    return Reply(text=t("forecast.set", title=deal.title, id=deal.id, category=shown))


def chart(req: Request) -> Reply:
    """`chart funnel`, `chart win rate by month`, `chart forecast`: the report as an image."""
    if not req.args:
        raise Invalid("usage.chart")
    spec = _spec(req, req.args)
    if spec.name not in CHARTS or spec.rest:
        raise Invalid("error.chart_unknown")
    return run_report(req, replace(spec, chart=True))


def quota(req: Request) -> Reply:
    """`quota @alice 2027-Q1 120000 USD`: set what a person should win in a period."""
    t, ctx = req.t, req.ctx
    parts = req.args.split(None, 1)
    if len(parts) < 2:
        raise Invalid("usage.quota")
    who, rest = parts
    period_text, amount, currency = take_amount(rest)
    if amount is None:
        raise Invalid("usage.quota")
    period = parse_period(period_text, _today(req))
    if period is None or period.start is None or period.end is None:
        raise Invalid("error.quota_period", value=period_text)
    user = resolve_user(ctx, who)
    if said_yuan(rest):
        # 元 is the person's yuan, as for a new deal: their book's money, else their zone's
        # (a Taipei rep's NT$), else the manager's; CNY only when nothing says otherwise.
        currency = first_yuan(
            ctx,
            book_currency(ctx.session, user, ctx.default_currency),
            home_currency(user.timezone or "UTC"),
            home_currency(ctx.actor.timezone or "UTC"),
        )
    elif currency is None:
        # Unsaid, the quota is in the money the person's own book deals in (their reports' own).
        currency = book_currency(ctx.session, user, ctx.default_currency)
    saved = set_quota(ctx, user, period.start, period.end, amount, currency)
    return Reply(
        text=t(
            "quota.set",
            user=user.name,
            period=period.label,
            amount=fmt.money(saved.amount, saved.currency, t),
        )
    )


def _named(name: str) -> Handler:
    def handler(req: Request) -> Reply:
        return run_report(req, _spec(req, req.args, name=name))

    handler.__doc__ = f"`{name}` as a verb of its own."
    return handler


NAMES = ("win rate", "funnel", "cycle", "activity", "tickets")
DIMS = ("rep", "team", "manager", "region", "product", "industry", "month", "quarter")
BY = Arg("by", Kind.text, optional=True, keyword="by", also=("按",), label="|".join(DIMS))
PERIOD = Arg("period", Kind.text, optional=True, label="this quarter|last month|2017|from D to D")
CURRENCY = Arg("currency", Kind.text, optional=True, keyword="in", label="currency")

# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 62
VERBS = [
    Verb(
        "report",
        report,
        args=(Arg("report", Kind.choice, choices=NAMES), BY, PERIOD, CURRENCY),
        examples=(
            "report win rate by team this quarter",
            "report funnel",
            "report cycle by rep 2017",
            "report activity last week",
            "report tickets by assignee last month",
            "报表 赢单率 按团队 本季度",
        ),
        writes=False,
        aliases=("报表", "报告"),
    ),
    Verb(
        "forecast",
        forecast_verb,
        args=(
            Arg("deal", Kind.ref, optional=True),
            Arg(
                "category",
                Kind.choice,
                optional=True,
                choices=("commit", "best case", "pipeline", "auto"),
            ),
            PERIOD,
        ),
        examples=("forecast", "forecast next quarter", "forecast #12 commit", "预测 下季度"),
        writes=True,
        aliases=("预测",),
    ),
    Verb(
        "funnel",
        _named("funnel"),
        args=(PERIOD,),
        examples=("funnel", "漏斗"),
        writes=False,
        aliases=("漏斗", "销售漏斗"),
    ),
    Verb(
        "win rate",
        _named("win-rate"),
        args=(BY, PERIOD, CURRENCY),
        examples=("win rate by month 2017", "赢单率 按产品"),
        writes=False,
        aliases=("赢单率", "胜率"),
        menu="winrate",
    ),
    Verb(
        "chart",
        chart,
        args=(Arg("chart", Kind.choice, choices=("funnel", "win rate", "forecast")), BY, PERIOD),
        examples=("chart funnel", "chart win rate by month 2017", "chart forecast", "图表 漏斗"),
        writes=False,
        aliases=("图表",),
    ),
    Verb(
        "quota",
        quota,
        args=(
            Arg("user", Kind.user),
            Arg("period", Kind.text, label="2027-Q1"),
            Arg("amount", Kind.amount),
        ),
        examples=(
            "quota @alice 2027-Q1 120000 USD",
            "quota @dave next quarter 50k",
            "配额 @alice 2027-Q1 120000 USD",
        ),
        writes=True,
        aliases=("配额", "指标"),
    ),
]
