"""Verbs as data (name, aliases, arguments, help, examples) and the Request each handler gets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crm_core.context import Ctx
from crm_core.text import char_view, hant_views, to_simplified, to_traditional
from handlers.args import Arg, Value, usage_line, write_line
from handlers.i18n import HANT, Translator
from handlers.reply import Command

if TYPE_CHECKING:
    from handlers.forms import Form
    from handlers.reply import Reply

    # Only for the type: importing the note index at run time would load Chroma for every verb.
    from retrieval.runtime import NoteIndex

Handler = Callable[["Request"], "Reply"]
# After a Latin alias the verb must end: a space, a colon or the end of the line.
_LATIN_END = r"(?=$|[\s:：,，])"


@dataclass(frozen=True)
class Verb:
    """One command of the language, in every locale and on every platform."""

    name: str
    handler: Handler
    args: tuple[Arg, ...]
    examples: tuple[str, ...]
    writes: bool
    aliases: tuple[str, ...] = ()
    # Short name for menus that allow only [a-z0-9_] (Telegram's command list).
    menu: str | None = None
    # The form this verb opens when its arguments are left out (or name only the record).
    form: Form | None = None
    # Its statements find rows by key (an id, the sender's own rows): a prepared statement's
    # generic plan serves every value alike, so PostgreSQL may reuse one instead of planning
    # each execution again (`crm_core.db.plan_by_key`). Reports and scoped lists, whose
    # ranges and scopes make a generic plan slow, leave it False.
    keyed: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # Taiwan's words for the Chinese aliases (查找 is 查詢 there), read as this verb when no
    # declared form matches: what a zh-Hant reader sees in prose can be typed back.
    taiwan: tuple[str, ...] = field(init=False, repr=False, compare=False)
    taiwan_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _forms_pattern({self.name, *self.aliases}))
        declared = {self.name, *self.aliases}
        # Matched on the `char_view` of the line: Taiwan's phrase (回覆, 聯絡人) in that view,
        # and folded whole (回复), so both what help shows and what prose says are read.
        worded = {w for a in self.chinese for w in hant_views(a)}
        worded |= {to_simplified(to_traditional(a)) for a in self.chinese}
        taiwan = tuple(sorted(worded - declared))
        object.__setattr__(self, "taiwan", taiwan)
        object.__setattr__(self, "taiwan_pattern", _forms_pattern(set(taiwan)) if taiwan else None)

    @property
    def usage(self) -> str:
        """The grammar line with a slot per argument, as help shows it."""
        return usage_line(self.name, self.args)

    def usage_for(self, t: Translator) -> str:
        """The usage line in the reader's words: `新商机 <客户>: <标题> …` for Chinese."""
        if not t.chinese:
            return self.usage
        return usage_line(self.local_name(t), self.args, t)

    def local_name(self, t: Translator) -> str:
        """The verb as a reader of `t`'s language types it (its first Chinese alias)."""
        if not (t.chinese and self.chinese):
            return self.name
        alias = self.chinese[0]
        if t.locale == HANT:
            # Taiwan's word when it is an alias too (设置 -> 設定, since 设定 is one).
            worded = to_traditional(alias)
            if to_simplified(worded) in self.aliases:
                return worded
        return t.command(alias)

    def line(self, values: Mapping[str, Value]) -> str:
        """The command text that runs this verb with these argument values."""
        return write_line(self.name, self.args, values)

    @property
    def help_key(self) -> str:
        """The catalogue key of this verb's one-line help."""
        return f"verb.{self.name.replace(' ', '_')}.help"

    @property
    def about_key(self) -> str:
        """The catalogue key of this verb's longer description (its help page, the README)."""
        return f"verb.{self.name.replace(' ', '_')}.about"

    @property
    def chinese(self) -> tuple[str, ...]:
        """The Chinese forms of this verb, as declared."""
        return tuple(a for a in self.aliases if not a.isascii())


# Characters whose candidate verbs `Registry` remembers (a line's first character is one of few).
_STARTS_KEPT = 4096


def _may_start(form: str, first: str) -> bool:
    """Whether `form`'s pattern (case-insensitive) may match a line whose first character
    (after spaces) is `first`; True when unsure, so no verb that could match is skipped."""
    words = form.split()
    if not words:
        return True
    lead = words[0][0]
    if lead == first:
        return True
    if lead.isascii() and first.isascii():
        return lead.lower() == first.lower()
    # A cased letter outside ASCII may match another case-insensitively ("İ" matches "i",
    # "K" the Kelvin sign matches "k"); a character without case matches only itself.
    return _cased(lead) and _cased(first)


def _cased(ch: str) -> bool:
    """Whether `ch` has another case (a letter a case-insensitive match may fold)."""
    return ch.lower() != ch or ch.upper() != ch


def _forms_pattern(forms: set[str]) -> re.Pattern[str]:
    """The regex a line starting with one of `forms` (longest first) matches."""
    parts = []
    for form in sorted(forms, key=len, reverse=True):
        words = r"\s+".join(re.escape(w) for w in form.split())
        latin = form[-1].isascii()
        parts.append(words + (_LATIN_END if latin else ""))
    return re.compile(r"^\s*(?:" + "|".join(parts) + r")\s*[:：]?\s*", re.I)


class Registry:
    """All verbs, and the matcher that finds the verb a line of text starts with."""

    def __init__(self, verbs: Iterable[Verb] = ()) -> None:
        self._verbs: list[Verb] = []
        # The verbs (declared forms, then Taiwan's words) a line's first character may begin,
        # per character: `match` tries only those patterns, not every verb's.
        self._starts: dict[str, tuple[tuple[Verb, ...], tuple[Verb, ...]]] = {}
        for verb in verbs:
            self.add(verb)

    def add(self, verb: Verb) -> None:
        """Declare a verb; names and aliases must be unique."""
        taken = {f.lower() for v in self._verbs for f in (v.name, *v.aliases)}
        clash = {f.lower() for f in (verb.name, *verb.aliases)} & taken
        if clash:
            raise ValueError(f"verb {verb.name!r} reuses {sorted(clash)}")
        self._verbs.append(verb)
        self._starts.clear()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._verbs)

    def get(self, name: str) -> Verb | None:
        """A verb by name or alias."""
        wanted = to_simplified(name.strip()).lower()
        for verb in self._verbs:
            if wanted in {f.lower() for f in (verb.name, *verb.aliases)}:
                return verb
        viewed = char_view(name.strip())
        return next((v for v in self._verbs if {wanted, viewed} & set(v.taiwan)), None)

    def form(self, name: str) -> Form | None:
        """A declared form by name."""
        return next((v.form for v in self._verbs if v.form and v.form.name == name), None)

    def forms(self) -> list[Form]:
        """Every declared form."""
        return [v.form for v in self._verbs if v.form is not None]

    def match(self, text: str) -> tuple[Verb, str] | None:
        """The verb `text` starts with (longest form wins) and the rest of the line."""
        view = char_view(text)
        head = view.lstrip()
        if not head:
            return None
        declared, taiwan = self._starting(head[0])
        best: tuple[int, Verb] | None = None
        for verb in declared:
            m = verb.pattern.match(view)
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), verb)
        if best is None:
            # Only when no declared form fits, so a Taiwan word never shadows another verb.
            for verb in taiwan:
                m = verb.taiwan_pattern.match(view) if verb.taiwan_pattern else None
                if m and (best is None or m.end() > best[0]):
                    best = (m.end(), verb)
        if best is None:
            return None
        return best[1], text[best[0] :].strip()

    def _starting(self, first: str) -> tuple[tuple[Verb, ...], tuple[Verb, ...]]:
        """The verbs, in declaration order, with a declared form (then a Taiwan word) that
        may begin with `first`: the same verbs `match` would find by trying them all."""
        known = self._starts.get(first)
        if known is not None:
            return known
        declared = tuple(
            v for v in self._verbs if any(_may_start(f, first) for f in (v.name, *v.aliases))
        )
        taiwan = tuple(
            v
            for v in self._verbs
            if v.taiwan_pattern and any(_may_start(f, first) for f in v.taiwan)
        )
        if len(self._starts) < _STARTS_KEPT:
            self._starts[first] = (declared, taiwan)
        return declared, taiwan


NoteOpener = Callable[[], "NoteIndex"]


@dataclass
class Request:
    """What a verb handler receives: the context, the command, the parsed verb and the rest."""

    ctx: Ctx
    command: Command
    verb: Verb
    args: str
    text: str
    t: Translator
    registry: Registry
    # Opens the process's note index; None where there is none (ask then says so).
    notes: NoteOpener | None = None
