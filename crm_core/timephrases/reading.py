"""Finding and resolving time phrases in a message, whatever its language; the public readers."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from crm_core.date_order import month_first
from crm_core.text import char_view
from crm_core.timephrases.core import (
    AM_PARTS,
    PARTS,
    PM_PARTS,
    Atom,
    Bad,
    Clock,
    Day,
    Group,
    ImpossibleTime,
    Offset,
    Part,
    Recur,
    Recurrence,
    TimePhrase,
    Value,
    add_months,
    last_day,
    wall_time,
)
from crm_core.timephrases.rules_en import EN_RULES, WORD_END, WORD_START, en_clock
from crm_core.timephrases.rules_zh import ZH_RULES

_RULES = EN_RULES + ZH_RULES

# A bare number: an hour only right after a day ("tomorrow 10", "friday 9"), never alone.
_BARE_HOUR = re.compile(
    r"(?<![\d.:,$€£¥#/-])(?P<h>\d{1,2})(?P<m>)(?![\d:%/]|[.,]\d|\s*(?:[%$€£¥]|(?:x|k|st|nd|rd|th)\b))"
)

# Between two atoms of one phrase: "tomorrow at 3pm", "friday, 5pm", "明天的下午".
_GLUE = re.compile(rf"(?:\s|,|{WORD_START}(?:at|on){WORD_END}|@|的|在)*")
# Before a phrase, part of it: "by friday", "on monday", "at 15:30", "在明天".
_PREFIX = re.compile(rf"(?:{WORD_START}(?:on|by|at|around|due)|@|在|于)\s*$")
# After a phrase, part of it: "周五前" (by Friday).
_SUFFIX = re.compile(r"\s*(?:之前|以前|前(?![往去来台面夕景途期辈]))")
# Connectors dropped from the rest: "tomorrow 3pm to call Dana", "周五，发报价".
_LEAD = re.compile(rf"(?:[\s,:;.\-–—、]|{WORD_START}(?:to|that|and|then){WORD_END}|的)*")
_TRAIL = re.compile(rf"(?:[\s,:;\-–—、]|{WORD_START}(?:on|at|by|before|until|till){WORD_END})*$")


# "daily", "weekly", "monthly" right after a time phrase and before a word that is no time word
# describe that word ("friday 5pm monthly report", "tomorrow 9am daily standup notes"): part
# of the reminder's text, not its schedule. ("daily check at 9am" stays a daily reminder.)
_ADJECTIVE = re.compile(
    rf"{WORD_START}(?:daily|weekly|monthly|yearly|annual|annually|hourly|quarterly|bi-?weekly"
    rf"|fortnightly)(?=\s+(?!(?:at|on|from|by|in|starting|until|till|@)\b)[a-z])"
)


def _atoms(view: str) -> list[Atom]:
    """The non-overlapping atoms of a phrase, longest first, in text order."""
    found: list[Atom] = []
    for pattern, build, weak in _RULES:
        for m in pattern.finditer(view):
            if m.end() > m.start():
                found.append(Atom(m.start(), m.end(), build(m), weak(m)))
    described = {m.span() for m in _ADJECTIVE.finditer(view)}
    if described:
        ends = {a.end for a in found}
        found = [
            a
            for a in found
            if (a.start, a.end) not in described
            or not any(_GLUE.fullmatch(view, e, a.start) for e in ends if e < a.start)
        ]
    found.sort(key=lambda a: (a.start - a.end, a.start))
    kept: list[Atom] = []
    for atom in found:
        if all(atom.end <= k.start or atom.start >= k.end for k in kept):
            kept.append(atom)
    for m in _BARE_HOUR.finditer(view):
        if all(m.end() <= k.start or m.start() >= k.end for k in kept):
            kept.append(Atom(m.start(), m.end(), en_clock(m), companion=True))
    kept.sort(key=lambda a: a.start)
    return kept


def _groups(view: str) -> list[Group]:
    """Adjacent atoms joined into phrases, with their connectors."""
    runs: list[list[Atom]] = []
    for atom in _atoms(view):
        if atom.companion:
            before = runs[-1][-1] if runs else None
            if (
                before is not None
                and isinstance(before.value, Day | Part | Recur)
                and view[before.end : atom.start].isspace()
            ):
                runs[-1].append(atom)
        elif runs and _GLUE.fullmatch(view, runs[-1][-1].end, atom.start):
            runs[-1].append(atom)
        else:
            runs.append([atom])
    groups = []
    for run in runs:
        start, end = run[0].start, run[-1].end
        prefix = _PREFIX.search(view, 0, start)
        if prefix:
            start = prefix.start()
        suffix = _SUFFIX.match(view, end)
        if suffix:
            end = suffix.end()
        groups.append(Group(start, end, tuple(run), prefix is not None))
    return groups


# --- resolving a phrase -------------------------------------------------------------------


def _soon(now: datetime) -> datetime:
    """About an hour from now, on a quarter hour."""
    later = (now + timedelta(hours=1)).astimezone(UTC)
    seconds = math.ceil(later.timestamp() / 900) * 900
    return datetime.fromtimestamp(seconds, UTC)


def _clock_time(clock: Clock, part: str | None) -> tuple[time, int]:
    """The wall-clock time of a clock read with its part of the day, and days to add."""
    if clock.special == "noon":
        if part not in (None, "noon"):
            raise ImpossibleTime("noon with another part of the day")
        return time(12), 0
    if clock.special == "midnight":
        return time(0), 1
    hour, minute = clock.hour, clock.minute
    if part == "eod":
        raise ImpossibleTime("end of day with a clock time")
    if clock.meridiem:
        if part in AM_PARTS and clock.meridiem == "pm":
            raise ImpossibleTime("morning and pm")
        if part in PM_PARTS and clock.meridiem == "am":
            raise ImpossibleTime("evening and am")
        return time(hour % 12 + (12 if clock.meridiem == "pm" else 0), minute), 0
    if part is None:
        if 1 <= hour <= 6 and not clock.padded:
            raise ImpossibleTime("a bare hour 1-6: a.m. or p.m.?")
        return time(hour, minute), 0
    if part == "morning" and 1 <= hour <= 12:
        return time(hour, minute), 0
    if part == "noon" and hour in (11, 12, 1, 2):
        return time(hour if hour >= 11 else hour + 12, minute), 0
    if part == "afternoon" and 1 <= hour <= 12:
        return time(hour if hour == 12 else hour + 12, minute), 0
    if part == "dusk" and 4 <= hour <= 8:
        return time(hour + 12, minute), 0
    if part in ("evening", "night") and 5 <= hour <= 12:
        if hour == 12:
            return time(0, minute), 1
        return time(hour + 12, minute), 0
    if part == "early" and 0 <= hour <= 6:
        return time(hour, minute), 0
    if part == "early" and hour == 12:
        return time(0, minute), 1
    raise ImpossibleTime("the clock contradicts the part of the day")


def _time_of_day(
    clock: Clock | None, part: str | None, default_time: time
) -> tuple[time, int, bool]:
    """(time, days to add, explicit) from a clock, a part of the day, or the default."""
    if clock is not None:
        at, shift = _clock_time(clock, part)
        return at, shift, True
    if part is not None:
        at_part = PARTS[part][0]
        if at_part is None:
            raise ImpossibleTime("凌晨 needs a clock time")
        return at_part, 0, True
    return default_time.replace(tzinfo=None), 0, False


def _ongoing(part: str | None, local_now: datetime) -> bool:
    """Whether the part of the day (the whole day without one) is not over yet."""
    end = PARTS[part][1] if part else None
    return end is None or local_now.time() < end


_T = TypeVar("_T")
_Resolved = tuple[datetime, "Recurrence | None", bool]


def _one(values: list[Value], kind: type[_T]) -> _T | None:
    """The single value of a kind in a phrase; two of them are ambiguous."""
    matching = [v for v in values if isinstance(v, kind)]
    if len(matching) > 1:
        raise ImpossibleTime("two of the same kind")
    return matching[0] if matching else None


def _fixed_day(day: Day, today: date) -> date:
    """The calendar day of a day atom that does not depend on the time."""
    if day.kind == "offset":
        return today + timedelta(days=day.n)
    if day.kind == "next_week":
        return today + timedelta(days=7 - today.weekday())
    if day.kind == "eow":
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if day.kind == "eom":
        month = add_months(today.replace(day=1), day.n)
        return month.replace(day=last_day(month.year, month.month))
    if day.kind == "weekday":
        monday = today - timedelta(days=today.weekday())
        weeks = {"fixed": 0, "next": 1, "next2": 2}[day.mode]
        return monday + timedelta(days=7 * weeks + day.n)
    assert day.day is not None
    try:
        if day.kind == "date":
            assert day.month is not None
            if day.year is not None:
                return date(day.year, day.month, day.day)
            found = date(today.year, day.month, day.day)
            return found if found >= today else date(today.year + 1, day.month, day.day)
        first = add_months(today.replace(day=1), day.n)
        found = date(first.year, first.month, day.day)
        if day.mode == "roll" and found < today:
            first = add_months(first, 1)
            found = date(first.year, first.month, day.day)
        return found
    except ValueError as error:
        raise ImpossibleTime("no such date") from error


def _resolve(atoms: tuple[Atom, ...], now: datetime, tz: ZoneInfo, default_time: time) -> _Resolved:
    """(due, recurrence, explicit_time) of one phrase; ImpossibleTime when it cannot be read."""
    values = [a.value for a in atoms]
    if any(isinstance(v, Bad) for v in values):
        raise ImpossibleTime("impossible or unsupported")
    offset = _one(values, Offset)
    day = _one(values, Day)
    part_atom = _one(values, Part)
    clock = _one(values, Clock)
    recur = _one(values, Recur)
    named = [part_atom.name if part_atom else None, day.part if day else None]
    parts = {p for p in [*named, recur.part if recur else None] if p}
    if len(parts) > 1:
        raise ImpossibleTime("two parts of the day")
    part = parts.pop() if parts else None
    local_now = now.astimezone(tz)
    today = local_now.date()

    if recur is not None:
        if offset or day:
            raise ImpossibleTime("a recurrence with a start day")
        at, shift, explicit = _time_of_day(clock, part, default_time)
        if shift and recur.kind != "daily":
            raise ImpossibleTime("midnight on a weekday: which side?")
        recurrence = Recurrence(recur.kind, at, recur.weekday, recur.day)
        return recurrence.next_after(now, tz), recurrence, explicit

    if offset is not None:
        if day:
            raise ImpossibleTime("an offset and a day")
        if offset.days or offset.months:
            target = add_months(today, offset.months) + timedelta(days=offset.days)
            if clock or part:
                at, shift, _ = _time_of_day(clock, part, default_time)
            else:
                at, shift = local_now.time().replace(second=0, microsecond=0), 0
            return wall_time(target + timedelta(days=shift), at, tz) + offset.exact, None, True
        if clock or part:
            raise ImpossibleTime("an exact offset and a clock time")
        return now.astimezone(UTC) + offset.exact, None, True

    at, shift, explicit = _time_of_day(clock, part, default_time)
    if day is None:
        due = wall_time(today + timedelta(days=shift), at, tz)
        if due <= now:
            if clock is None and _ongoing(part, local_now) and part != "noon":
                return _soon(now), None, False
            due = wall_time(today + timedelta(days=shift + 1), at, tz)
        return due, None, explicit
    if day.kind == "weekday" and day.mode == "roll":
        for ahead in range(8):
            target = today + timedelta(days=ahead)
            due = wall_time(target + timedelta(days=shift), at, tz)
            if target.weekday() == day.n and due > now:
                return due, None, explicit
        raise AssertionError("unreachable: a weekday comes within a week")
    target = _fixed_day(day, today)
    due = wall_time(target + timedelta(days=shift), at, tz)
    if due <= now and target == today and clock is None and _ongoing(part, local_now):
        return _soon(now), None, False
    return due, None, explicit


def _phrase(text: str, view: str, group: Group, resolved: _Resolved) -> TimePhrase:
    """The TimePhrase of a resolved group, with the rest of the text tidied."""
    due, recurrence, explicit = resolved
    start, end = group.start, group.end
    left_end = _TRAIL.search(view, 0, start)
    left_stop = left_end.start() if left_end else start
    left_start = _LEAD.match(view, 0, left_stop)
    left = text[left_start.end() if left_start else 0 : left_stop]
    right_start = _LEAD.match(view, end)
    right = text[right_start.end() if right_start else end :].rstrip()
    sep = ""
    if left and right and not _cjk(left[-1]) and not _cjk(right[0]) and right[0] not in ".,!?;:)":
        sep = " "
    return TimePhrase(due, recurrence, explicit, (start, end), left + sep + right)


def _cjk(ch: str) -> bool:
    """Chinese characters and full-width punctuation need no space around them."""
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def _checked_now(now: datetime) -> datetime:
    """`now` as aware UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def read_time_phrase(
    text: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    default_time: time = time(9, 0),
    day_first: bool = False,
) -> TimePhrase | None:
    """The one time expression in `text`, resolved in `tz`; None when none can be read.
    `day_first`: slash dates are day/month (crm_core.date_order.day_first of the user)."""
    now = _checked_now(now)
    # The swap keeps lengths, so the phrase's span (and the rest) is still the text's.
    view = month_first(char_view(text), day_first)
    lead = len(view) - len(view.lstrip())
    groups = [g for g in _groups(view) if not g.weak or g.start == lead]
    if not groups:
        return None
    tail = len(view.rstrip(" \t\r\n.!?,;。！？，；"))
    # A leading phrase is the usual form; then a trailing one ("call Dana tomorrow at 3pm");
    # otherwise the longest.
    leading = [g for g in groups if g.start == lead]
    trailing = [g for g in groups if g.end >= tail]
    group = (leading or trailing[-1:] or sorted(groups, key=lambda g: g.start - g.end))[0]
    try:
        resolved = _resolve(group.atoms, now, tz, default_time)
    except ImpossibleTime:
        return None
    return _phrase(text, view, group, resolved)


# --- follow-ups in logged notes -----------------------------------------------------------

_INTENT = re.compile(
    rf"{WORD_START}(?:f/u|f-u|fup|follow[\s-]*up|followup|call\s+(?:[^\s,.;]+\s+){{0,2}}back|callback"
    rf"|ring\s+(?:[^\s,.;]+\s+)?back|check\s+(?:back|in)|circle\s+back|touch\s+base"
    rf"|reach\s+out|get\s+back\s+to|reconnect|chase|ping|remind|revisit|next\s+steps?){WORD_END}"
    r"|回访|跟进|跟踪|复访|回电话?|回个电话|再联系|联系|再约|约见|拜访|再打|催"
)
_NEGATED_BEFORE = re.compile(
    rf"(?:{WORD_START}(?:no\s+need\s+to|don'?t|do\s+not|not|won'?t|never|no)\s+(?:need\s+to\s+)?"
    r"|已经?|刚刚?|不用|不必|无需|不需要)\s*$"
)
_NEGATED_AFTER = re.compile(
    rf"^(?:\s*(?:done|completed|sent|finished|made){WORD_END}|了(?!解)|过(?!程))"
)
_CLAUSE_END = re.compile(r"[!?;\n。！？；]|\.(?=\s|$)")
_NEAR = 60  # characters between the intention and its time, within one sentence


def find_follow_up(
    note: str, now: datetime, tz: ZoneInfo, *, day_first: bool = False
) -> TimePhrase | None:
    """The time of a follow-up the note asks for ("f/u next Tue", "下周二回访"), else None."""
    now = _checked_now(now)
    view = month_first(char_view(note), day_first)
    intents = [
        m
        for m in _INTENT.finditer(view)
        if not _NEGATED_BEFORE.search(view, max(0, m.start() - 24), m.start())
        and not _NEGATED_AFTER.match(view[m.end() : m.end() + 12])
    ]
    best: tuple[int, Group, _Resolved] | None = None
    for group in _groups(view):
        for intent in intents:
            if group.start >= intent.end():
                lo, hi = intent.end(), group.start
            elif intent.start() >= group.end:
                lo, hi = group.end, intent.start()
            else:
                lo = hi = group.start  # overlapping: "跟进" inside nothing, but be safe
            gap = hi - lo
            if gap > _NEAR or _CLAUSE_END.search(view, lo, hi):
                continue
            if group.weak and gap > 2:
                continue
            try:
                resolved = _resolve(group.atoms, now, tz, time(9, 0))
            except ImpossibleTime:
                continue
            if resolved[0] <= now:
                continue
            if best is None or gap < best[0]:
                best = (gap, group, resolved)
    if best is None:
        return None
    return _phrase(note, view, best[1], best[2])
