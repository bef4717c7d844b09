"""Loose sentences about the service desk, reminders named by their words, contacts, archived
customers and one's own settings, read into one grammar command (never a write done here).

"the manukau ticket's all sorted, swapped the dispensers" -> `resolve #1: swapped the
dispensers`; "蜀都灭鼠复查那个提醒推到周三" -> `snooze #2 2026-12-09`; "quiet hrs 9pm-6:30am pls"
-> `quiet 21:00-06:30`. The same rules as the other readings hold: a question, a supposition,
a negation or someone else's doing is never a write; a ticket or reminder is taken only when
the words name one (else a question); a hidden customer reads like a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import select

from crm_core.access import ticket_filter
from crm_core.context import Ctx
from crm_core.errors import CrmError
from crm_core.mentions import (
    find_archived_customers,
    find_contacts,
    find_customers,
    find_users,
)
from crm_core.models import (
    Customer,
    Reminder,
    ReminderStatus,
    Role,
    Ticket,
    TicketStatus,
    User,
)
from crm_core.resolve import resolve_customer, user_by_chinese_name
from crm_core.services.preferences import zone as zone_of
from crm_core.text import char_view
from crm_core.timephrases.chinese import cn_int
from handlers import format as fmt
from handlers import loose_desk_words as d
from handlers import loose_words as w
from handlers.args import Value, take_ref
from handlers.grammar import span_said, split_colon

if TYPE_CHECKING:
    from handlers.loose import Interpreter, Outcome, _Reading

Reader = Callable[[Ctx, "_Reading"], "Outcome | str | None"]

_ACTIVE = (TicketStatus.new, TicketStatus.open, TicketStatus.waiting)
_CLOSED = (TicketStatus.resolved, TicketStatus.closed, TicketStatus.waiting)
# Words that say nothing of which ticket or reminder is meant.
_STOP = frozenset(
    {
        "the",
        "a",
        "an",
        "that",
        "this",
        "it",
        "its",
        "my",
        "our",
        "their",
        "your",
        "and",
        "for",
        "with",
        "about",
        "from",
        "into",
        "onto",
        "over",
        "ticket",
        "tickets",
        "case",
        "reminder",
        "reminders",
        "remind",
        "done",
        "mark",
        "marked",
        "push",
        "snooze",
        "move",
        "bump",
        "already",
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "can",
        "could",
        "would",
        "just",
        "now",
        "yet",
        "today",
        "tomorrow",
        "all",
        "sorted",
        "resolved",
        "fixed",
        "closed",
        "replied",
        "told",
        "them",
        "him",
        "her",
        "they",
        "was",
        "were",
        "has",
        "have",
        "had",
        "is",
        "are",
        "be",
        "been",
        "to",
        "on",
        "at",
        "of",
        "in",
        "na",
        "yung",
        "sa",
        "kay",
        "para",
        "ang",
        "ng",
        "mo",
        "ko",
        "po",
        "tick",
        "off",
        "set",
        "new",
        "urgent",
        "high",
        "low",
        "normal",
        "priority",
        "reopen",
        "again",
        "waiting",
        "wait",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]*\w")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_LATIN = re.compile(r"[a-z][a-z0-9'-]{2,}")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]+")
# Characters that only glue a sentence together: a pair holding one is no topic word.
_GLUE = set("那个这𠮶呢的了咗啲张单提醒工我你佢哋他们把给帮就好吧啦喇呀已经要再")


# When a colleague says it was done: "他说昨天已经…".
_DONE_WHEN = r"(?:昨天|今天|前天|琴日|寻日|刚才|刚刚|啱啱|上午|下午|早上|头先)"
_THEY_ZH = re.compile(r"(?:他|她|佢|佢哋|他们|同事)(?:已经|已|都)?\s*$")
_PRIORITY_LEAD = re.compile(r"(?:priority|prio|优先级)\s*(?:is\s+|[:：])?\s*$")
# Where a clause ends (a comma too: a request may follow a remark).
_PART = re.compile(r"[,，.!?;。！？；\n]")
# Someone else as the doer: "he closed it", "closed by them".
_THEY = re.compile(r"\b(?:he|she|they|someone|somebody)\b(?!\s+(?:want|need|ask))")
_BY_THEM = re.compile(
    r"\bby\s+(?:him|her|them|someone|somebody|the\s+(?:customer|client|other\s+team))\b"
)


@dataclass
class _Clock:
    hour: int
    minute: int
    start: int
    end: int
    # Whether the hour was said with am/pm or a part of the day (早上, 晚上), or on 24 hours.
    fixed: bool


_EN_NUM = "|".join(sorted(d.NUMBER_WORDS, key=len, reverse=True))
_EN_CLOCK = re.compile(
    rf"(?<![\w:.])(?:(?P<q>quarter|half)\s+(?:past|after)\s+(?P<qh>\d{{1,2}}|{_EN_NUM})"
    rf"|quarter\s+to\s+(?P<th>\d{{1,2}}|{_EN_NUM})"
    # British and Irish "half eight" is 8:30 (said after "at", "from", ...).
    rf"|half\s+(?P<hh>\d{{1,2}}|{_EN_NUM})(?!\s*(?:past|after|to|an?\b|hours?|mins?))"
    rf"|(?P<h>\d{{1,2}}|{_EN_NUM})(?:[:.](?P<m>\d{{2}}))?(?:\s*o['’]?clock)?"
    r"\s*(?P<ap>a\.?\s?m\b\.?|p\.?\s?m\b\.?)?"
    r"|(?P<noon>noon|midday|midnight))(?![\w:])"
)
_EN_CLOCK_BEFORE = re.compile(
    r"(?:\b(?:at|from|to|till|til|until|between|and|after|before|around)|[-–~])\s*$"
)
_ZH_HOUR = r"\d{1,2}|[零一二两三四五六七八九十]{1,3}"
_ZH_CLOCK = re.compile(
    r"(?P<part>早上|上午|中午|下午|晚上|凌晨|夜里|夜晚|傍晚|半夜|朝早|晏昼|夜晚|夜间|深夜)?\s*"
    rf"(?P<h>{_ZH_HOUR})\s*(?:[:：](?P<m>\d{{2}})|[点时]\s*(?P<zm>半|一刻|三刻|"
    r"(?:\d{1,2}|[零一二三四五六七八九十]{1,3})\s*分?)?)"
)

# "一点" after 晚/早/快/慢/迟 (or before 点儿/点点) is "a bit", not one o'clock.
_A_BIT = re.compile(r"(?<=[晚早快慢迟迟])一\s*点|一点(?:儿|点|吧)")


def clocks(view: str, start: int = 0) -> list[_Clock]:
    """Clock times said in `view` after `start`: "9pm", "6:30am", "21:00", "quarter past
    eight", "eight a m", "晚上十点", "九点一刻", "七点半", in order."""
    out: list[_Clock] = []
    for m in _ZH_CLOCK.finditer(view, start):
        if not m.group("part") and _A_BIT.match(view, m.start("h")):
            # "改晚一点", "早一点发": "a bit later/earlier", no hour said.
            continue
        h = _int(m.group("h"))
        minute = int(m.group("m")) if m.group("m") else _zh_minute(m.group("zm"))
        part = m.group("part") or ""
        if part in ("下午", "晚上", "夜里", "夜晚", "傍晚", "夜间", "深夜", "晏昼") and h < 12:
            h += 12
        elif part in ("凌晨", "半夜") and h == 12:
            h = 0
        fixed = bool(part) or h > 12 or bool(m.group("m") and len(m.group("h")) == 2)
        out.append(_Clock(h, minute, m.start(), m.end(), fixed))
    for m in _EN_CLOCK.finditer(view, start):
        if any(c.start <= m.start() < c.end for c in out):
            continue
        if m.group("noon"):
            h = 0 if m.group("noon") == "midnight" else 12
            out.append(_Clock(h, 0, m.start(), m.end(), True))
            continue
        if m.group("q"):
            h, minute = _int(m.group("qh")), 15 if m.group("q") == "quarter" else 30
            fixed = False
        elif m.group("th"):
            h, minute, fixed = _int(m.group("th")) - 1, 45, False
        elif m.group("hh"):
            if not _EN_CLOCK_BEFORE.search(view, 0, m.start()):
                continue  # "half two" with no "at" before it may be no time
            h, minute, fixed = _int(m.group("hh")), 30, False
        else:
            h = _int(m.group("h"))
            minute = int(m.group("m")) if m.group("m") else 0
            ap = (m.group("ap") or "").replace(".", "").replace(" ", "")
            said_24 = bool(m.group("m")) and (h > 12 or m.group("h").startswith("0"))
            if not ap and not m.group("m") and not _EN_CLOCK_BEFORE.search(view, 0, m.start()):
                continue  # a bare number ("for 2 people") is no time
            if ap == "pm" and h < 12:
                h += 12
            elif ap == "am" and h == 12:
                h = 0
            fixed = bool(ap) or said_24
        if 0 <= h <= 23 and 0 <= minute <= 59:
            out.append(_Clock(h, minute, m.start(), m.end(), fixed))
    out.sort(key=lambda c: c.start)
    return out


def _int(said: str) -> int:
    if said.isdigit():
        return int(said)
    if said in d.NUMBER_WORDS:
        return d.NUMBER_WORDS[said]
    return cn_int(said)


def _zh_minute(said: str | None) -> int:
    if not said:
        return 0
    if said == "半":
        return 30
    if said == "一刻":
        return 15
    if said == "三刻":
        return 45
    return _int(said.rstrip("分").strip())


def _hhmm(c: _Clock) -> str:
    return f"{c.hour:02d}:{c.minute:02d}"


def _topic(view: str) -> tuple[set[str], set[str]]:
    """The Latin words and Chinese character pairs a text is about (glue left out)."""
    # "wi-fi" and "wifi", "check-in" and "checkin" are one word.
    words = {m.group(0).strip("'-").replace("-", "") for m in _LATIN.finditer(view)} - _STOP
    pairs = set()
    for run in _CJK_RUN.findall(view):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if not (set(pair) & _GLUE):
                pairs.add(pair)
    return words, pairs


def _overlap(said: tuple[set[str], set[str]], of: str) -> float:
    """How much of `of` (a reminder's or ticket's words) the message names."""
    words, pairs = _topic(char_view(of))
    shared = said[0] & words
    # A word shared in part ("dispensers" / "dispenser", "pillowcase" / "pillowcases").
    near = {
        a
        for a in said[0] - shared
        for b in words - shared
        if len(a) >= 5 and len(b) >= 5 and (a.startswith(b[:5]) and b.startswith(a[:5]))
    }
    return len(shared) + 0.75 * len(near) + 0.75 * len(said[1] & pairs)


def _pick(scored: list[tuple[float, int]], need: float) -> int | str | None:
    """The one best id (by score at least `need`, clearly ahead), None when none, "several"
    when two tie."""
    scored = sorted(scored, reverse=True)
    if not scored or scored[0][0] < need:
        return None
    if len(scored) > 1 and scored[1][0] > scored[0][0] - 0.75:
        return "several"
    return scored[0][1]


class DeskReader:
    """The readings of this module, for one interpreter (its verbs and record lookups)."""

    def __init__(self, interp: Interpreter) -> None:
        self.interp = interp

    @property
    def writes(self) -> tuple[Reader, ...]:
        """The write readers, tried before the interpreter's own."""
        return (
            self.reminder_by_words,
            self.ticket,
            self.feedback,
            self.unarchive,
            self.contact_add,
            self.quiet,
            self.digest,
            self.timezone,
            self.language,
        )

    # -- shared ---------------------------------------------------------------------------------

    def _proposal(
        self, verb: str, values: dict[str, Value], shown: list[tuple[str, str]], line: str = ""
    ) -> Outcome:
        from handlers.loose import Proposal

        return Proposal(self.interp.verb(verb), values, shown, line=line or None)

    def _unsure(self, key: str, verbs: tuple[str, ...], **params: str) -> Outcome:
        from handlers.loose import Unsure

        return Unsure(key, dict(params), verbs)

    def _someone_else(self, ctx: Ctx, r: _Reading, at: int) -> bool:
        """Another person did it ("Jo closed the ticket", "closed by Jo", "he sorted it")."""
        start = max((m.end() for m in _PART.finditer(r.view, r.body, at)), default=r.body)
        if _THEY.search(r.view, max(start, at - 40), at) or _BY_THEM.search(r.view, at):
            return True
        if re.search(
            # "他说昨天已经回复客户了": he, what he said, when, already.
            # "唐小川说已经回复了": someone's word that it was done.
            rf"(?:(?:他|她|佢|佢哋|他们|同事)(?:说|讲|话)?{_DONE_WHEN}?(?:已经|已|都)?"
            rf"|(?<!我)(?:说|讲){_DONE_WHEN}?(?:已经|已))\s*$",
            r.view[r.body : at].strip(),
        ):
            return True
        others = [u for u in find_users(ctx, r.text) if u.id != ctx.actor.id]
        return any(
            (u.end <= at and at - u.end <= 25) or re.search(r"\bby\s+@?$", r.view[: u.start])
            for u in others
        )

    def _refused(self, ctx: Ctx, r: _Reading, at: int, *, others: bool = True) -> bool:
        """Never a write: a question ("请问..." too), a supposition, a negation before `at`,
        or (with `others`) another person's doing."""
        from handlers.loose import _quoted

        if r.no_write or "请问" in r.view or r.asked_at(at) or _quoted(r, at):
            return True
        # "I'd like my digest at 9:30": a request, not someone's reported words.
        r = replace(r, view=d.I_WOULD_LIKE.sub(lambda m: " " * len(m.group(0)), r.view))
        # The clause of the request: "...话咗解决, 点知又投诉, 重开佢" asks after a report.
        start = max((m.end() for m in _PART.finditer(r.view, r.body, at)), default=r.body)
        if w.NEGATION.search(r.view, start, at) or w.REPORTED.search(r.view, start, at):
            return True
        if start == r.body and r.negated_before(at):
            return True
        return others and self._someone_else(ctx, r, at)

    # -- reminders named by their words ---------------------------------------------------------

    def reminder_by_words(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "给向东打电话那个提醒 搞定了" -> `done #1`, "push the grant washroom quote reminder
        to thurs 2pm" -> `snooze #10 ...`: a pending reminder of the sender's, by its words."""
        view = r.view
        if "#" in view[r.body :] or re.search(r"提醒\s*\d", view):
            return None  # by its number: the interpreter's own readings
        said = d.REMINDER_WORD.search(view, r.body)
        new = w.REMIND_CUE.search(view, r.body)
        if (
            new is not None
            and not new.group(0).startswith("reminder")
            and not (
                new.group("zwho")
                and not find_users(ctx, new.group("zwho"))
                and user_by_chinese_name(ctx, new.group("zwho")) is None
            )
        ):
            # A new reminder ("remind me to push the quote to friday"); "提醒推到周三" is this
            # reminder moved, 推到 no one's name.
            return None
        # Moved only when "reminder" / 提醒 is said: "move acme fleet to negotiation" is a deal's.
        later = d.REMINDER_LATER_SAID.search(view, r.body) if said else None
        cancel = d.REMINDER_CANCEL_SAID.search(view, r.body) if said else None
        done = d.REMINDER_DONE_SAID.search(view, r.body) if said else None
        asked = d.REMINDER_DONE_ASKED.search(view, r.body)
        if said is None and asked is None and later is None:
            return None
        verb: str
        cue: re.Match[str]
        if later is not None:
            verb, cue = "snooze", later
        elif cancel is not None:
            verb, cue = "cancel", cancel
        elif done is not None or asked is not None:
            cue = done if done is not None else asked  # type: ignore[assignment]
            verb = "done"
        elif said is not None and d.REMINDER_NOT_DONE.search(view, said.end()):
            # "给杨经理打电话那个提醒 明天再弄": a reminder spoken of, not done yet; no note.
            verb, cue = "done", said
        else:
            return None
        pending = ctx.session.scalars(
            select(Reminder).where(
                Reminder.owner_id == ctx.actor.id, Reminder.status == ReminderStatus.pending
            )
        ).all()
        if not pending:
            return None
        topic = _topic(view[r.body :])
        named = {m.id for m in find_customers(ctx, r.text) if m.exact}
        # A contact of the reminder's customer named ("the dawn field reminder").
        people = {p.owner_id for p in find_contacts(ctx, r.text) if p.exact}
        scored = [
            (
                _overlap(topic, rem.text)
                + (1.5 if rem.customer_id in named else 0.0)
                + (1.0 if rem.customer_id in people else 0.0),
                rem.id,
            )
            for rem in pending
        ]
        picked = _pick(scored, 1.5 if said is not None else 2.5)
        if picked is None:
            return None
        if self._refused(ctx, r, cue.start()):
            return verb
        clause_end = re.search(r"[.!?;。！？；]", view[cue.end() :])
        rest = view[cue.end() : cue.end() + clause_end.start()] if clause_end else view[cue.end() :]
        if verb == "done" and d.REMINDER_NOT_DONE.search(
            view, max(r.body, cue.start() - 30), cue.end() + len(rest)
        ):
            return verb
        if picked == "several":
            return self._unsure("loose.unsure", ("reminders", verb))
        assert isinstance(picked, int)
        shown = [("reminder", f"#{picked}")]
        if verb != "snooze":
            return self._proposal(verb, {"reminder": picked}, shown)
        from handlers.loose import _time_phrase

        said_when = r.cut(cue.end()).strip(" ,，:：")
        length = span_said(char_view(said_when))
        if length is not None:
            shown.append(("when", length))
            return self._proposal("snooze", {"reminder": picked, "when": length}, shown)
        phrase = _time_phrase(ctx, said_when)
        if phrase is None or phrase.span[0] > 4:
            return self._unsure("loose.remind_when", ("snooze",))
        local = phrase.due.astimezone(ctx.tz)
        when = local.strftime("%Y-%m-%d %H:%M" if phrase.explicit_time else "%Y-%m-%d")
        shown.append(("when", fmt.local_time(phrase.due, ctx.tz)))
        return self._proposal("snooze", {"reminder": picked, "when": when}, shown)

    # -- tickets --------------------------------------------------------------------------------

    def ticket(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A new ticket, or what became of one: resolved, replied to, assigned, its priority,
        waiting on the customer, reopened."""
        view = r.view
        new = d.TICKET_NEW.search(view, r.body)
        if new is not None:
            return self._new_ticket(ctx, r, new)
        if d.TICKET_WORD.search(view, r.body) is None:
            return None
        reply = d.TICKET_REPLY.search(view, r.body)
        head_end = reply.end() if reply is not None else len(view)
        cues: list[tuple[str, re.Match[str] | None]] = [
            ("reopen", d.TICKET_REOPEN.search(view, r.body, head_end)),
            ("assign", d.TICKET_ASSIGN.search(view, r.body)),
            ("priority", d.TICKET_PRIORITY.search(view, r.body, head_end)),
            ("wait", d.TICKET_WAIT.search(view, r.body, head_end)),
            ("reply", reply),
            ("resolve", d.TICKET_DONE.search(view, r.body, head_end)),
        ]
        found = next(((v, m) for v, m in cues if m is not None), None)
        if found is None:
            return None
        verb, cue = found
        if self._refused(ctx, r, cue.start()) or (
            verb in ("resolve", "reopen")
            and w.ALREADY.search(view, max(r.body, cue.start() - 12), cue.start())
        ):
            return verb
        statuses = _CLOSED if verb == "reopen" else _ACTIVE
        ticket = self._which_ticket(ctx, r, statuses)
        if not isinstance(ticket, Ticket):
            return ticket
        shown = [("ticket", f"#{ticket.id} {fmt.preview(ticket.subject)}")]
        if verb in ("reopen", "wait"):
            return self._proposal(verb, {"ticket": ticket.id}, shown)
        if verb == "priority":
            level = next(
                (name for name, p in d.PRIORITY_WORDS if p.search(view, cue.start())), None
            )
            if level is None:
                return self._unsure("loose.unsure", ("priority",))
            shown.append(("priority", level))
            return self._proposal("priority", {"ticket": ticket.id, "priority": level}, shown)
        if verb == "assign":
            who = self._assignee(ctx, r, cue)
            if who is None:
                return self._unsure("loose.unsure", ("assign",))
            shown.append(("user", who))
            line = f"assign #{ticket.id} to {who}"
            return self._proposal("assign", {"ticket": ticket.id, "user": who}, shown, line)
        text = self._said_after(r, cue, verb)
        if not text:
            return self._unsure("loose.unsure", (verb,))
        shown.append(("text", fmt.preview(text)))
        return self._proposal(verb, {"ticket": ticket.id, "text": text}, shown)

    def _said_after(self, r: _Reading, cue: re.Match[str], verb: str) -> str:
        """What was answered, or what fixed it: the words after the cue ("told grant new units
        go in monday" -> "new units go in monday")."""
        view = r.view
        colon = re.search(r"[:：]", view[cue.start() :])
        start = cue.start() + colon.end() if colon is not None else cue.end()
        text = r.cut(start)
        if colon is None:
            text = re.sub(
                r"^(?:[\s,，.。、-]|\b(?:and|then|so|that|them|him|her|the\s+customer|"
                r"the\s+client)\b|佢哋|佢|他们|客户)*",
                "",
                text,
                flags=re.I,
            )
            if verb == "reply" and re.match(r"told\b", cue.group(0)):
                # "told grant new units ...": the person told, then what.
                text = (
                    re.sub(r"^(?:that\s+)?[A-Za-z]+\s+(?:that\s+)?", "", text)
                    if not re.match(r"(?i)that\b", text)
                    else text[4:].strip()
                )
        text = text.strip(" ,，.。!！")
        # "…回复客户了": a particle left after the cue says nothing that was answered.
        return "" if re.fullmatch(r"[了啦咯喇嘅的过咗吧呢哦啊嘛喔囉啰\s]*", text) else text

    def _assignee(self, ctx: Ctx, r: _Reading, cue: re.Match[str]) -> str | None:
        if cue.group("me"):
            return "me"
        said = cue.group("who") or cue.group("zwho") or ""
        if said in ("me", "myself", "我", "我自己"):
            return "me"
        users = [u.id for u in find_users(ctx, said) if u.exact]
        if not users and (zh := user_by_chinese_name(ctx, said)) is not None:
            users = [zh[0].id]
        if not users:
            from crm_core.mentions import find_users_by_sound

            users = list({u.id for u in find_users_by_sound(ctx, said)})
        if len(users) != 1:
            return None
        if users[0] == ctx.actor.id:
            return "me"
        user = ctx.session.get(User, users[0])
        assert user is not None
        return "@" + (user.external_id or str(user.id))

    def _which_ticket(
        self, ctx: Ctx, r: _Reading, statuses: tuple[TicketStatus, ...]
    ) -> Ticket | Outcome:
        """The one ticket the sentence names, among those the sender may see in `statuses`."""
        number = re.search(r"(?:ticket|case|工单|单)\s*#?\s*(\d+)|#\s*(\d+)", r.view)
        if number is not None:
            tid = int(number.group(1) or number.group(2))
            found = ctx.session.scalar(
                select(Ticket).where(Ticket.id == tid, ticket_filter(ctx.actor))
            )
            if found is None:
                return self._unsure("loose.unsure", ("tickets",))
            return found
        named = [m.id for m in find_customers(ctx, r.text) if m.exact]
        stmt = select(Ticket).where(ticket_filter(ctx.actor), Ticket.status.in_(statuses))
        if named:
            stmt = stmt.where(Ticket.customer_id.in_(named))
        rows = ctx.session.scalars(stmt.order_by(Ticket.id).limit(200)).all()
        topic = _topic(r.view[r.body :])
        scored = [
            (_overlap(topic, f"{t.subject} {t.description or ''}") + (2.0 if named else 0.0), t.id)
            for t in rows
        ]
        picked = _pick(scored, 2.0 if named else 1.5)
        if isinstance(picked, int):
            return next(t for t in rows if t.id == picked)
        if named and len(rows) > 1:
            return self._unsure("loose.unsure", ("tickets",))
        if not named:
            # No customer the sender sees is named (or one of another book): as if missing.
            return self._unsure("loose.which_customer", ("tickets", "find"))
        return self._unsure("loose.unsure", ("tickets",))

    def _new_ticket(self, ctx: Ctx, r: _Reading, cue: re.Match[str]) -> Outcome | str | None:
        if self._refused(ctx, r, cue.start()):
            return "ticket"
        customer = self.interp._customer(ctx, r, required=True, within=(r.body, len(r.view)))
        if not isinstance(customer, Customer):
            return customer
        from handlers.loose import _span_of

        view = r.view
        taken = [(cue.start(), cue.end())]
        span = _span_of(r, customer)
        if span is not None:
            taken.append(span)
        level = None
        for name, pattern in d.PRIORITY_WORDS:
            m = pattern.search(view, r.body)
            if m is not None:
                level = name
                # "..., high priority", "urgent", "急得很": the words of the priority go.
                stop = re.match(r"\s*(?:priority|prio|优先级?)?", view[m.end() :])
                lead = re.search(
                    r"(?:priority|prio|优先级)\s*(?:is\s+|[:：])?\s*$", view[: m.start()]
                )
                taken.append(
                    (lead.start() if lead else m.start(), m.end() + (stop.end() if stop else 0))
                )
                break
        colon = re.search(r"[:：]", view[cue.end() :])
        if colon is not None and (span is None or span[1] <= cue.end() + colon.start() + 2):
            start = cue.end() + colon.end()
            subject = _rest(r, start, taken)
        else:
            start = max(e for _, e in taken if e <= len(view)) if taken else r.body
            subject = _rest(r, r.body, taken)
        del start
        subject = re.sub(
            r"^(?:\s|[,，:：.。、-]|\b(?:for|at|on|about|re|regarding|with)\b|的|给|帮)+",
            "",
            subject,
            flags=re.I,
        ).strip(" ,，.。!！")
        if not subject:
            return self._unsure("loose.unsure", ("ticket",))
        values: dict[str, Value] = {"customer": customer.id, "subject": subject}
        from handlers.loose import _customer_label

        shown = [("customer", _customer_label(customer)), ("subject", fmt.preview(subject))]
        if level is not None:
            values["priority"] = level
            shown.append(("priority", level))
        return self._proposal("ticket", values, shown)

    # -- feedback -------------------------------------------------------------------------------

    def feedback(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "SRMC gave us nps 10 today, loved the new team" -> `feedback #23: nps 10, loved
        the new team`."""
        view = r.view
        cue = d.FEEDBACK.search(view, r.body)
        if cue is None:
            return None
        score = re.search(
            rf"(?:\b(?:of|is|was|at|gave|score)\s+)?(?P<n>\d{{1,2}}|{_EN_NUM}|[零一二三四五六七八九十]{{1,2}})"
            r"(?:\s*(?:/|out\s+of)\s*(?P<of>5|10|five|ten))?\s*(?:分|颗星|粒星|stars?|points?)?",
            view[cue.end() : cue.end() + 30],
        )
        if score is None:
            score = re.search(
                r"(?P<n>\d{1,2})\s*(?:分|颗星|粒星)",
                view[max(r.body, cue.start() - 12) : cue.start()],
            ) or re.search(
                # "they gave us a 7 on nps", "rated us 4 for csat": given, then the scale.
                r"\b(?:gave|give|gives|given|rated|scored|deu|deram|donné)\b(?:\s+(?:us|me|them))?"
                r"\s+(?:an?\s+)?(?P<n>\d{1,2})\s+(?:on|for|in|as)\s+(?:the\s+|their\s+)?$",
                view[max(r.body, cue.start() - 30) : cue.start()],
            )
            if score is None:
                return None
            score_end = cue.end()
        else:
            score_end = cue.end() + score.end()
        if self._refused(ctx, r, cue.start()) or d.FEEDBACK_NOT_GIVEN.search(view, r.body):
            return "feedback"
        n = _int(score.group("n"))
        # The scale named by its cue is the scale ("净推荐值打了9分 满意得很" is an NPS, however
        # pleased they sound); otherwise a satisfaction word or "/5" says CSAT.
        named_nps = re.match(r"nps|net|净推荐|淨推薦|推荐|推薦", cue.group(0))
        kind = (
            "csat"
            if (not named_nps and d.FEEDBACK_CSAT.search(view, r.body))
            or score.groupdict().get("of") in ("5", "five")
            else "nps"
        )
        if (kind == "csat" and not 1 <= n <= 5) or (kind == "nps" and not 0 <= n <= 10):
            return self._unsure("loose.unsure", ("feedback",))
        customer = self.interp._customer(ctx, r, required=True, within=(r.body, len(view)))
        if not isinstance(customer, Customer):
            return customer
        from handlers.loose import _customer_label, _span_of

        span = _span_of(r, customer)
        start = max(score_end, span[1] if span else 0)
        comment = r.cut(start)
        comment = re.sub(
            r"^(?:[\s,，.。:：;；-]|\b(?:today|yesterday|this\s+week|and|they|said|says|saying|"
            r"commented|comment|noting|because|as)\b|今天|今日|说|讲|话|表示|评价|留言|因为)*",
            "",
            comment,
            flags=re.I,
        ).strip(' ,，.。!！"“”')
        # `feedback #N` is ticket #N: the customer goes by the name that reads back to it.
        named = _feedback_name(ctx, customer)
        if named is None:
            return self._unsure(
                "loose.feedback_by_ticket",
                ("feedback",),
                customer=customer.name,
                score=f"{kind} {n}",
            )
        values: dict[str, Value] = {"customer": named, "score": f"{kind} {n}"}
        shown = [("customer", _customer_label(customer)), ("score", f"{kind} {n}")]
        if comment and not re.fullmatch(r"[\W_]*", comment):
            values["comment"] = comment
            shown.append(("comment", fmt.preview(comment)))
        return self._proposal("feedback", values, shown)

    # -- contacts -------------------------------------------------------------------------------

    def contact_add(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "add contact sa Mabuhay: Carla Ong, HR Manager, carla@...", "给锦城广场加个联系人 刘洋
        保洁主管 电话139...": the customer, then name, title, email and phone in any order.
        None for what the interpreter's own reading takes ("add Dana Ruiz as a contact at ...",
        "he's their new IT lead", a birthday)."""
        view = r.view
        cue = d.CONTACT_ADD.search(view, r.body)
        if cue is None or re.search(
            r"\b(?:he|she)(?:'s|’s|\s+is)\b|\btheir\b|\bas\s+(?:a\s+)?(?:new\s+)?contact|"
            r"birthday|生日",
            view,
        ):
            return None
        if self._refused(ctx, r, cue.start()):
            return "contact add"
        customer = self.interp._customer(ctx, r, required=True, within=(r.body, len(view)))
        if not isinstance(customer, Customer):
            return customer
        taken = [(cue.start(), cue.end())]
        spans = [(m.start, m.end) for m in find_customers(ctx, r.text) if m.id == customer.id]
        taken += spans[:1]
        email = _EMAIL.search(r.text)
        phone = _PHONE.search(r.text)
        values: dict[str, Value] = {"customer": customer.id}
        if email is not None:
            values["email"] = email.group(0).rstrip(".")
            taken.append((email.start(), email.end()))
        if phone is not None:
            values["phone"] = phone.group(0).strip()
            taken.append((phone.start(), phone.end()))
        said_at = max(e for _, e in taken[:2])
        colon = re.compile(r"[:：]").search(view, said_at - 1)
        body = _rest(r, colon.end() if colon is not None else r.body, taken)
        body = re.sub(
            r"(?i)(?:\b(?:phone|tel|mobile|cell|email|e-mail)\b|电话|電話|手机|手機|邮箱|郵箱)\s*[:：]?",
            " ",
            body,
        )
        body = re.sub(
            r"(?i)^(?:\s|[,，:：、.-]|\b(?:please|pls|add|a|an|new|contact|sa|at|for|to|in|on|"
            r"under|with|co\.|inc\.?|ltd\.?|llc|corp\.?|gmbh|limited)(?!\w)|@|请|請|在|给|給|帮我|幫我|帮|"
            r"幫|到|一下)+",
            "",
            body,
        )
        parts = [
            re.sub(r"(?i)\s+(?:to|at|for|in|sa|from|of)$", "", p.strip(" .。"))
            for p in re.split(r"\s*[,，、;；]\s*", body)
            if p.strip(" .。")
        ]
        if not parts:
            return self._unsure("loose.contact_name", ("contact add",), customer=customer.name)
        name, title = parts[0], parts[1] if len(parts) > 1 else ""
        if len(parts) == 1 and " " in name:
            tokens = name.split()
            if _CJK_RUN.fullmatch(tokens[0]):
                name, title = tokens[0], " ".join(tokens[1:])
            else:
                size = 3 if re.fullmatch(r"(?i)dr\.?|mr\.?|ms\.?|mrs\.?|prof\.?", tokens[0]) else 2
                name, title = " ".join(tokens[:size]), " ".join(tokens[size:])
        if name.islower() and name.isascii():
            name = name.title()
        if not name or re.search(r"\d", name) or len(name.split()) > 4:
            return None
        values["name"] = name
        if title and len(title.split()) <= 5 and not re.search(r"\d", title):
            values["title"] = title
        from handlers.loose import _customer_label

        shown = [("customer", _customer_label(customer)), ("name", name)]
        shown += [(k, str(values[k])) for k in ("title", "email", "phone") if k in values]
        keys = ("customer", "name", "title", "email", "phone")
        ordered: dict[str, Value] = {k: values[k] for k in keys if k in values}
        return self._proposal("contact add", ordered, shown)

    # -- archived customers ---------------------------------------------------------------------

    def unarchive(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "ponsonby grammar's back on, unarchive em", "把晴光市场恢复一下": an archived customer
        of the sender's book named, and a word of bringing it back."""
        cue = d.UNARCHIVE.search(r.view, r.body)
        if cue is None:
            return None
        found = [m for m in find_archived_customers(ctx, r.text) if m.exact]
        if not found:
            return None
        if self._refused(ctx, r, cue.start()):
            return "unarchive"
        top = [m for m in found if m.weight == found[0].weight]
        if len({m.id for m in top}) > 1:
            return self._unsure("loose.unsure", ("unarchive",))
        customer = ctx.session.get(Customer, top[0].id)
        assert customer is not None
        from handlers.loose import _customer_label

        return self._proposal(
            "unarchive", {"customer": customer.id}, [("customer", _customer_label(customer))]
        )

    # -- settings -------------------------------------------------------------------------------

    def _for_user(self, ctx: Ctx, r: _Reading, cue: re.Match[str]) -> str | Outcome | None:
        """The person a setting is for when the sender names someone else ("Ryan's digest",
        "quiet hours for Gang"); None for the sender."""
        near = r.view[max(r.body, cue.start() - 25) : cue.end() + 25]
        # "## Digest / **Tunde**: weekdays only", "set him to ...", "Set **Chunkit** to ...":
        # a name before a colon, or a person set to a value, names whose setting it is.
        if not re.search(
            r"['’]s\b|\bfor\s+@?[a-z]|@[a-z]|给|帮|替|\*\*\s*[:：]|(?:^|\n)\s*[a-z][\w.-]*\s*[:：]",
            near,
        ) and not re.search(
            r"\bset\s+(?:him|her|them|\W*[a-z][\w.-]*\W*)\s+(?:to|on|as)\b", r.view[r.body :]
        ):
            if re.search(r"\b(?:her|his|him|their|them)\b|他的|她的|佢嘅", near):
                # "so kindly set her time zone to ...": someone's, named elsewhere in the
                # message; never the sender's own.
                return self._named_elsewhere(ctx, r)
            return None
        users = [
            u
            for u in find_users(ctx, r.text)
            if u.exact and u.id != ctx.actor.id and abs(u.start - cue.start()) <= 30
        ]
        if len({u.id for u in users}) != 1:
            return None
        if ctx.actor.role != Role.admin:
            return self._unsure("loose.unsure", ("settings",))
        user = ctx.session.get(User, users[0].id)
        assert user is not None
        return "@" + (user.external_id or str(user.id))

    def _named_elsewhere(self, ctx: Ctx, r: _Reading) -> str | Outcome:
        """The one colleague a message names for a setting said with "her"/"his" (an admin
        only); a question when there is none or several."""
        users = {u.id for u in find_users(ctx, r.text) if u.exact and u.id != ctx.actor.id}
        if len(users) != 1 or ctx.actor.role != Role.admin:
            return self._unsure("loose.unsure", ("settings",))
        user = ctx.session.get(User, users.pop())
        assert user is not None
        return "@" + (user.external_id or str(user.id))

    def quiet(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "quiet hrs 9pm-6:30am pls", "免打扰 晚上十点到早上七点" -> `quiet 21:00-06:30`."""
        cue = d.QUIET.search(r.view, r.body)
        if cue is None:
            dont = d.QUIET_DONT.search(r.view, r.body)
            if dont is None or len(clocks(r.view, r.body)) < 2:
                return None
            if self._refused(ctx, r, dont.start()) or re.search(
                r"说|讲|话|\b(?:said|says|told|asked)\b", r.view[r.body : dont.start()]
            ):
                return "quiet"  # asked, supposed, or someone else's words
            # "晚上十点到早上八点别吵我": the "don't" is the request, not a refusal of it.
            times = clocks(r.view, r.body)
            first, second = times[0], times[1]
            if not first.fixed and 5 <= first.hour <= 11:
                first.hour += 12
            hours = f"{_hhmm(first)}-{_hhmm(second)}"
            return self._proposal("quiet", {"hours": hours}, [("hours", hours)])
        if (
            self._refused(ctx, r, cue.start(), others=False)
            or d.SETTING_DONE.search(r.view, r.body)
            or w.THIRD_PERSON_SAID.search(r.view, r.body, cue.start())
        ):
            return "quiet"
        times = clocks(r.view, r.body)
        if len(times) >= 2:
            first, second = times[0], times[1]
            if _hhmm(first) == _hhmm(second):
                # "我的免打扰是0点到0点": no hours at all, a joke (the verb refuses it too).
                return "quiet"
            if not first.fixed and 5 <= first.hour <= 11:
                first.hour += 12  # "quiet 9-6": from the evening
            hours = f"{_hhmm(first)}-{_hhmm(second)}"
        elif d.QUIET_OFF.search(r.view, cue.end()) or d.QUIET_OFF.search(
            r.view, r.body, cue.start()
        ):
            hours = "off"
        else:
            return self._unsure("loose.unsure", ("quiet",))
        who = self._for_user(ctx, r, cue)
        if who is not None and not isinstance(who, str):
            return who
        values: dict[str, Value] = {"hours": hours}
        shown = [("hours", hours)]
        if who:
            values["user"] = who
            shown.insert(0, ("who", who))
        return self._proposal("quiet", values, shown)

    def digest(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "set my digest for eight a m", "日报改到早上九点一刻发给我", "Ryan's digest: weekdays
        only" -> `digest at 08:00`, `digest at 09:15`, `digest @ryan weekdays`."""
        cue = d.DIGEST.search(r.view, r.body)
        if cue is None:
            return None
        view = r.view
        times = clocks(view, r.body)
        setting: str | None = None
        if times:
            setting = _hhmm(times[0])
        elif d.DIGEST_WEEKDAYS.search(view, r.body):
            setting = "weekdays"
        elif d.DIGEST_DAILY.search(view, r.body):
            setting = "daily"
        elif d.DIGEST_OFF.search(view, r.body):
            setting = "off"
        elif d.DIGEST_ON.search(view, cue.end()):
            setting = "on"
        if setting is None:
            return None
        if (
            self._refused(ctx, r, cue.start(), others=False)
            or d.SETTING_DONE.search(view, r.body)
            or w.THIRD_PERSON_SAID.search(view, r.body, cue.start())
        ):
            return "digest"
        # The cue's own words blanked: 摘要 holds 要, a setting word elsewhere.
        around = view[: cue.start()] + " " * (cue.end() - cue.start()) + view[cue.end() :]
        if d.DIGEST_ARRIVES.search(around, r.body) and not d.DIGEST_SET.search(around, r.body):
            # "the digest lands at 6am and im never up then", "日报早上八点到": how it comes now.
            return "digest"
        who = self._for_user(ctx, r, cue)
        if who is not None and not isinstance(who, str):
            return who
        values: dict[str, Value] = {"setting": setting}
        shown = [("setting", setting)]
        if who:
            values["user"] = who
            shown.insert(0, ("who", who))
        return self._proposal("digest", values, shown)

    def timezone(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "## Time zone / **Yusuf**: set him to **Asia/Riyadh**", "時區先改東京" ->
        `timezone @yusuf Asia/Riyadh`, `timezone Asia/Tokyo`; the zone must be one we know."""
        cue = d.TIMEZONE.search(r.view, r.body)
        if cue is None or cue.start() == r.body:
            return None  # the verb typed first: the grammar's own line, read there
        found = self._zone_said(r, cue.end())
        if found is None:
            return None
        if (
            self._refused(ctx, r, cue.start(), others=False)
            or d.SETTING_DONE.search(r.view, r.body)
            or w.THIRD_PERSON_SAID.search(r.view, r.body, cue.start())
        ):
            return "timezone"
        return self._setting(ctx, r, cue, "timezone", "zone", found)

    def _zone_said(self, r: _Reading, start: int) -> str | None:
        """The IANA zone named in the message, or else right after the cue (a city)."""
        iana = d.IANA_ZONE.search(r.view, r.body)
        said = [r.cut(*iana.span())] if iana is not None else []
        lead = d.ZONE_LEAD.match(r.view, start)
        at = lead.end() if lead is not None else start
        rest = re.split(r"[,，。.;；!！?？\n]", r.cut(at))[0].strip()
        words = rest.split()
        said += [" ".join(words[:n]) for n in (3, 2, 1) if len(words) >= n]
        if rest and "\u4e00" <= rest[0] <= "\u9fff":
            said += [rest[:n] for n in (4, 3, 2)]
        for value in said:
            try:
                return zone_of(value.strip("*` "))
            except CrmError:
                continue
        return None

    def language(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "## Language / Set **Chunkit** to Traditional Chinese", "回覆攏用繁體中文啦",
        "language set auto" -> `language @chunkit zh-Hant`, `language zh-Hant`, `language auto`."""
        cue = d.LANGUAGE.search(r.view, r.body) or d.LANGUAGE_REPLY.search(r.view, r.body)
        if cue is None or cue.start() == r.body:
            return None  # the verb typed first: the grammar's own line, read there
        value = d.LANGUAGE_VALUE.search(r.view, cue.end())
        if value is None or (
            r.view[cue.end() : value.start()].strip(" :：=->→*")
            not in (
                "",
                "set",
                "set to",
                "to",
            )
            and not re.search(r"\bset\b|\bto\b|改|设|用", r.view[cue.start() : value.start()])
        ):
            return None
        group = next(g for g in ("hant", "zh", "en", "auto") if value.group(g))
        code = {"hant": "zh-Hant", "zh": "zh", "en": "en", "auto": "auto"}[group]
        if (
            self._refused(ctx, r, cue.start(), others=False)
            or d.SETTING_DONE.search(r.view, r.body)
            or w.THIRD_PERSON_SAID.search(r.view, r.body, cue.start())
        ):
            return "language"
        return self._setting(ctx, r, cue, "language", "language", code)

    def _setting(
        self, ctx: Ctx, r: _Reading, cue: re.Match[str], verb: str, arg: str, value: str
    ) -> Outcome:
        """A setting's card, for the sender or the colleague named with it."""
        who = self._for_user(ctx, r, cue)
        if who is not None and not isinstance(who, str):
            return who
        values: dict[str, Value] = {arg: value}
        shown = [(arg, value)]
        if who:
            values["user"] = who
            shown.insert(0, ("who", who))
        return self._proposal(verb, values, shown)

    # -- reads ----------------------------------------------------------------------------------

    def tickets(self, ctx: Ctx, r: _Reading) -> Outcome | None:
        """ "我手上啲工單", "Breaching tickets.", "ticket queue for the team" -> `tickets mine`,
        `tickets breaching`, `tickets team` (a read)."""
        view = r.view
        if d.TICKETS_PLURAL.search(view, r.body) is None:
            return None
        if d.TICKET_NEW.search(view, r.body) or w.LEAD_NEGATION.match(view, r.body):
            return None
        changes = (
            d.TICKET_DONE,
            d.TICKET_REPLY,
            d.TICKET_ASSIGN,
            d.TICKET_PRIORITY,
            d.TICKET_WAIT,
            d.TICKET_REOPEN,
        )
        if any(p.search(view, r.body) for p in changes):
            return None  # "我的工单处理好了": what became of one, not the queue
        if r.hypothetical:
            return None
        scope: str | None = None
        if d.TICKETS_BREACHING.search(view, r.body):
            scope = "breaching"
        elif d.TICKETS_TEAM.search(view, r.body):
            scope = "team"
        elif d.TICKETS_MINE.search(view, r.body):
            scope = "mine"
        values: dict[str, Value] = {}
        if scope is not None:
            values["scope"] = scope
        else:
            named = [m for m in find_customers(ctx, r.text) if m.exact]
            ids = {m.id for m in named}
            if len(ids) == 1:
                values["scope"] = named[0].id
        return self._proposal("tickets", values, [])


def _rest(r: _Reading, start: int, taken: list[tuple[int, int]]) -> str:
    """The original text from `start`, the taken spans blanked."""
    chars = list(r.text)
    for a, b in taken:
        for i in range(max(a, 0), min(b, len(chars))):
            chars[i] = " "
    return re.sub(r"\s{2,}", " ", "".join(chars[start:])).strip()


def _feedback_name(ctx: Ctx, customer: Customer) -> str | None:
    """The customer's name as `feedback <customer>:` reads it back to this very customer, or
    None (a name that reads as a ticket number, holds the colon, or names another too)."""
    name = customer.name.strip()
    rid, rest = take_ref(name)
    if (rid is not None and not rest) or split_colon(name)[1] is not None:
        return None
    try:
        found = resolve_customer(ctx, name)
    except CrmError:
        return None
    return name if found.id == customer.id else None
