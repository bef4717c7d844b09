"""Verb arguments as data: what each one is, how help shows it, how it is read and written."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from crm_core.stages import Pipeline
from crm_core.text import char_view, hant_views
from handlers import format as fmt
from handlers.grammar import take_amount
from handlers.i18n import LOCALES, Translator


class Kind(enum.StrEnum):
    """What an argument holds; each kind has one reader shared by every verb that takes it."""

    ref = "ref"  # `#12`: a record's number (take_ref)
    name = "name"  # a customer, deal or contact: its name, the start of it, or `#12` (resolve)
    user = "user"  # a staff member: `@bob` or a handle (crm_core.resolve.resolve_user)
    stage = "stage"  # a pipeline stage, in any locale's words (read_stage)
    amount = "amount"  # `48k`, `$48,000`, `50万 元` (handlers.grammar.take_amount)
    time = "time"  # a time phrase: `tomorrow 3pm`, `下周二上午10点` (crm_core.timephrases)
    day = "day"  # a day: `2026-12-15`, `next friday` (crm_core.when.parse_day)
    clock = "clock"  # a time of day: `8:30`
    number = "number"  # a whole number
    text = "text"  # free text, to the end of its part
    choice = "choice"  # one of fixed words


@dataclass(frozen=True)
class Arg:
    """One argument of a verb as the grammar line spells it.

    `sep` is what comes before it ("" after the verb, ", " between options, ": " before a
    note), `keyword` the word that names it (`close`, `with`), `also` that keyword's other
    forms (Chinese, plurals) and `choices` literal words typed instead of a value (`me`, `off`).
    """

    name: str
    kind: Kind
    optional: bool = False
    sep: str = " "
    keyword: str = ""
    also: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    label: str = ""  # the placeholder's words when they differ from the name
    end: str = ""  # what closes it (`:` after an optional customer in `ask`)

    @property
    def placeholder(self) -> str:
        """The value's slot in a usage line: `#<note number>`, `@<user>`, `call|visit`."""
        return self.slot(None)

    def slot(self, t: Translator | None) -> str:
        """The placeholder in the reader's words: `#<记录编号>`, `截止 <日期>` for Chinese.

        The slot's words come from `slot.*` messages (kept as typed where there is none: `N`,
        `2027-Q1`); the keyword is its first Chinese form, written as the reader types it.
        """

        def words(text: str) -> str:
            key = "slot." + re.sub(r"\W+", "_", text).strip("_").lower()
            return t(key) if t is not None and t.chinese and t.has(key) else text

        def choice(word: str) -> str:
            # Only words the verb also reads in Chinese have a `choice.*` line (电话, 关闭).
            key = f"choice.{word.replace(' ', '_')}"
            return t.command(t(key)) if t is not None and t.chinese and t.has(key) else word

        label = self.label or self.name
        choices = tuple(choice(w) for w in self.choices)
        if self.kind == Kind.choice:
            return "|".join(choices)
        slot = {
            Kind.ref: f"#<{words(self.label or self.name + ' number')}>",
            Kind.user: f"@<{words(label)}>",
            Kind.day: f"<{words(self.label or 'date')}>",
            Kind.clock: f"<{self.label or 'hh:mm'}>",
            Kind.amount: f"<{words(label)}> [{words('currency')}]",
        }.get(self.kind, f"<{words(label)}>")
        keyword = self.keyword
        if t is not None and t.chinese and keyword:
            keyword = t.command(next((w for w in self.also if not w.isascii()), keyword))
        named = f"{keyword} {slot}" if keyword else slot
        return "|".join((*choices, named))

    @property
    def words(self) -> tuple[str, ...]:
        """Every form of the keyword, the main one first."""
        return (self.keyword, *self.also) if self.keyword else ()


def usage_line(verb: str, args: Iterable[Arg], t: Translator | None = None) -> str:
    """The grammar line as help shows it: `deals [<customer>]`, `undo #<note number>`
    (with `t`, in the reader's words: `商机 [<客户>]`)."""
    line = verb
    for arg in args:
        piece = arg.slot(t) + arg.end
        if arg.optional:
            # Leading spaces stay outside the brackets ("log [call|visit] <customer>"); the
            # rest of the separator is part of the option ("[, <when>]", "[: <reason>]").
            outside = arg.sep[: len(arg.sep) - len(arg.sep.lstrip())]
            line += f"{outside}[{arg.sep.lstrip()}{piece}]"
        else:
            line += arg.sep + piece
    return line


Value = str | int | Decimal | date | datetime | tuple[Decimal, str]


def write_line(verb: str, args: Iterable[Arg], values: Mapping[str, Value]) -> str:
    """The grammar line that runs `verb` with `values` (an argument's name -> its value).

    The loose-command parser and confirm cards name the command they will run with this.
    Values are written as a person types them; a text that would be read as an amount or a
    keyword is quoted.
    """
    args = tuple(args)
    unknown = set(values) - {a.name for a in args}
    if unknown:
        raise ValueError(f"{verb} takes no {sorted(unknown)}")
    line = verb
    # `edit deal #12: close 2027-01-15`: the options' colon comes before the first one given.
    colon = False
    for i, arg in enumerate(args):
        if arg.name not in values:
            if not arg.optional:
                raise ValueError(f"{verb} needs {arg.name}")
            colon = colon or arg.sep.strip() in (":", "：")
            continue
        text = _written(arg, values[arg.name])
        later = [a for a in args[i + 1 :] if a.name in values]
        if arg.kind in (Kind.name, Kind.text) and _needs_quotes(text, later):
            text = f'"{text}"'
        if arg.kind != Kind.choice and text not in arg.choices and arg.keyword:
            text = f"{arg.keyword} {text}"
        sep = arg.sep
        if colon and sep.strip() in (",", "，"):
            sep = ": "
        colon = False if sep.strip() in (":", "：") else colon
        line += sep + text + arg.end
    return line


def _written(arg: Arg, value: Value) -> str:
    """One value as typed."""
    if isinstance(value, str) and value in arg.choices:
        return value
    if arg.kind == Kind.choice:
        if value not in arg.choices:
            raise ValueError(f"{arg.name} is one of {arg.choices}, not {value!r}")
        return str(value)
    if isinstance(value, tuple):
        return f"{value[0]} {value[1]}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and arg.kind in (Kind.ref, Kind.name):
        return f"#{value}"
    text = str(value).strip()
    if arg.kind == Kind.user:
        return "@" + text.lstrip("@")
    return text


def _needs_quotes(text: str, later: list[Arg]) -> bool:
    """A name before an amount that ends in a number, or one holding the keyword of a later
    option that only a space separates (options after commas cannot be mistaken)."""
    if later and later[0].kind == Kind.amount and take_amount(text)[1] is not None:
        return True
    words = [w for a in later if not a.sep.strip() for w in a.words]
    return any(re.search(rf"(?:^|\s){re.escape(w)}(?:\s|$)", text, re.I) for w in words)


def option_words(args: Iterable[Arg]) -> dict[str, str]:
    """Every keyword form of the arguments -> the argument's name (for take_keywords)."""
    # A Chinese keyword is also read in Taiwan's words (聯絡人, 優先順序), in `char_view`.
    return {
        form: arg.name
        for arg in args
        for word in arg.words
        for form in ({word} if word.isascii() else {word} | hant_views(word))
    }


def arg_named(args: Iterable[Arg], name: str) -> Arg:
    """The argument called `name`."""
    return next(a for a in args if a.name == name)


_REF = re.compile(r"^[#＃]?(\d{1,18})(?=\s|$)\s*(.*)$", re.S)


def take_ref(text: str) -> tuple[int | None, str]:
    """A leading record number (`#12`, `12`, full-width `＃１２`) and the rest of the line."""
    m = _REF.match(text.strip())
    if m is None:
        return None, text.strip()
    return int(m.group(1)), m.group(2).strip()


def read_stage(pipeline: Pipeline, typed: str) -> str:
    """The configured stage a person means, in English or in any locale's words.

    An unknown word is returned as typed (folded); the service refuses it with the stages.
    """
    wanted = char_view(typed.strip())
    won = [s for s in pipeline.stages if s.won]
    lost = [s for s in pipeline.stages if s.lost]
    for stage in pipeline.stages:
        translators = [Translator(loc, pipeline.stages) for loc in LOCALES]
        labels = {stage.name} | {char_view(fmt.stage(t, stage.name)) for t in translators}
        # The words the reports and digests print for won and lost (丟單 beside the stage's
        # 輸單) name the one won or lost stage too: the bot's own word is never refused.
        if won == [stage]:
            labels |= {char_view(t("report.won")) for t in translators}
        if lost == [stage]:
            labels |= {char_view(t("report.lost")) for t in translators}
        if wanted in labels:
            return stage.name
    # Unknown: as typed (the refusal quotes it back in the reader's own script).
    return typed.strip()
