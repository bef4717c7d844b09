"""The one entry point every adapter calls: Command in, Reply out, never an exception."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from rapidfuzz import fuzz, process
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from crm_core import rules
from crm_core.context import Ctx
from crm_core.db import plan_by_key, retrying, transaction, unit_of_work
from crm_core.errors import Ambiguous, Candidate, CrmError, Invalid, NotFound
from crm_core.models import User, utcnow
from crm_core.services.confirmations import redeem_confirm
from crm_core.services.deliveries import claim_delivery, keep_claim
from crm_core.services.interactions import MAX_TEXT as MAX_NOTE
from crm_core.settings import Settings
from crm_core.stages import Pipeline
from crm_core.text import char_view, to_simplified
from handlers import format as fmt
from handlers import loose_card
from handlers.grammar import split_colon
from handlers.i18n import HANT, LOCALES, Translator, detect
from handlers.loose import Interpreter, Proposal, writes
from handlers.loose_desk import DeskReader
from handlers.loose_dictation import undictated
from handlers.loose_llm import CommandProposer
from handlers.loose_words import (
    COURTESY,
    LISTED_CUSTOMER,
    SENTENCE_WORDS,
    SHOW_ONLY,
    TEAM_TOLD,
    VERB_ASKED,
)
from handlers.registry import NoteOpener, Registry, Request, Verb
from handlers.reply import DISMISS, RUN, Button, Command, Reply

log = logging.getLogger(__name__)
# A whole line: the longest note the service accepts plus room for the verb and options.
MAX_LINE = MAX_NOTE + 1_000
# The payload key a button of a `language auto` user's reply carries its language in.
LANG = "lang"


class CommandObserver(Protocol):
    """Told about every dispatched command (metrics): platform, verb, outcome, seconds taken.

    `verb` is the verb's name, or "unknown" / "none" when no verb ran; `outcome` is the
    Reply's status, or "failed" when the command raised (the user got a reference id).
    """

    def command_done(self, platform: str, verb: str, outcome: str, seconds: float) -> None:
        """Record one command; must be quick and must not raise."""
        ...

    def command_retried(self, platform: str, verb: str, reason: str) -> None:
        """Record that a command's unit of work runs again after a `reason` ("deadlock",
        "serialization") with another transaction; must be quick and must not raise."""
        ...


@dataclass
class _Seen:
    """What one dispatch found out, for the observers."""

    verb: str = "none"
    outcome: str | None = None
    # The language of the reply (the user's once known) and the runs the command took again.
    t: Translator = field(default_factory=lambda: Translator("en"))
    retries: int = 0
    # The language model's proposal per sentence: a run again after a deadlock reuses it
    # rather than asking the model (a paid, slow request) once more.
    proposals: dict[str, str | None] = field(default_factory=dict)
    # The verb each line read in this dispatch starts with: the plan-by-key check and the
    # run read the same line, and a run again after a deadlock reads it once more.
    matches: dict[str, tuple[Verb, str] | None] = field(default_factory=dict)


class Dispatcher:
    """Runs one command in one unit of work and turns every outcome into a Reply."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        registry: Registry,
        pipeline: Pipeline,
        *,
        default_currency: str = "USD",
        clock: Callable[[], datetime] = utcnow,
        settings: Settings | None = None,
        notes: NoteOpener | None = None,
    ) -> None:
        self.session_factory = session_factory
        # Opens the note index (retrieval.runtime.NoteIndex) for `ask`; None: ask is unavailable.
        self.notes = notes
        self.registry = registry
        self.pipeline = pipeline
        self.default_currency = default_currency
        self.clock = clock
        self.settings = settings
        # A language model's proposals for sentences the rules do not read (CRMBOT_LLM).
        self.proposer: CommandProposer | None = None
        # Metrics and the like (bot/ binds them); handlers and crm_core never import them.
        self.observers: list[CommandObserver] = []
        # Reads sentences that are not in the grammar into commands of it (confirm cards).
        self.interpreter = Interpreter(registry, DeskReader)

    def dispatch(self, command: Command, *, session: Session | None = None) -> Reply:
        """Handle a command; failures become replies that say what to type instead.

        With `session` (one the caller opened, and closes) the command's unit of work is its
        transaction, on the connection the caller's reads already hold.
        """
        started = time.perf_counter()
        seen = _Seen()
        reply = self._dispatch(command, seen, session)
        if self.observers:
            took = time.perf_counter() - started
            outcome = seen.outcome or reply.status
            for observer in self.observers:
                try:
                    observer.command_done(command.platform, seen.verb, outcome, took)
                except Exception:
                    # A broken metric must not cost the person their reply.
                    log.exception("command observer %s failed", type(observer).__name__)
        return reply

    def _dispatch(self, command: Command, seen: _Seen, given: Session | None) -> Reply:
        seen.t = Translator("en")
        try:
            # A deadlock or serialization failure rolled the whole unit of work back: it runs
            # again from the start (the delivery claim, the audit entry and every write once).
            return retrying(
                lambda: self._unit(command, seen, given),
                on_retry=lambda reason: self._retried(command, seen, reason),
            )
        except CrmError as exc:
            return Reply(text=self.message(exc, seen.t), status="error")
        except Exception:
            seen.outcome = "failed"
            ref = secrets.token_hex(4)
            # Only the reference and the verb-free shape: the text may hold customer data.
            log.exception(
                "command failed (ref %s, platform %s)",
                ref,
                command.platform,
                extra={"ref": ref, "platform": command.platform, "verb": seen.verb},
            )
            return Reply(text=seen.t("error.internal", ref=ref), status="error")

    def _retried(self, command: Command, seen: _Seen, reason: str) -> None:
        """Tell the observers that the command's unit of work runs again after `reason`."""
        seen.retries += 1
        for observer in self.observers:
            try:
                observer.command_retried(command.platform, seen.verb, reason)
            except Exception:
                log.exception("command observer %s failed", type(observer).__name__)

    def _unit(self, command: Command, seen: _Seen, given: Session | None) -> Reply:
        """One run of the command's unit of work (its own, or a transaction on `given`)."""
        t = seen.t
        with unit_of_work(self.session_factory) if given is None else transaction(given) as session:
            if self.keyed(command, seen):
                plan_by_key(session)
            user = session.get(User, command.user_id)
            if user is None or not user.active:
                return Reply(text=t("error.account_inactive"), status="error")
            t = seen.t = Translator(self.language(user, command), self.pipeline.stages)
            if command.delivery_id and not claim_delivery(
                session, command.platform, command.delivery_id, now=self.clock()
            ):
                return Reply(status="duplicate")
            claimed_in = session.get_transaction()
            if command.action == DISMISS:
                return Reply(text=t("confirm.cancelled"), status="info")
            text = self._text_of(command)
            if text is None:
                return Reply(text=t("error.button_expired"), status="error")
            if command.action == RUN and "edit" in command.payload:
                # A confirm card's Edit: nothing runs; the form or the line comes back.
                forms = {f.name: f for f in self.registry.forms()}
                return loose_card.edit(t, command.payload["edit"], text, forms)
            if command.action == RUN and "confirm" in command.payload:
                problem = redeem_confirm(
                    session, command.payload["confirm"], user_id=user.id, now=self.clock()
                )
                if problem is not None:
                    return Reply(text=t(problem), status="error")
            picks = self._picks_of(command)
            ctx = self.context(session, user, picks)
            # Read now: a refused command rolls back, which expires `user`, and reading it
            # afterwards would take a second connection from the pool to load it again.
            auto = user.locale_auto
            reply = self._run(ctx, command, text, t, picks, seen)
            # A refused part rolled back, the claim with it: claimed again, as the reply
            # is this delivery's answer and a retry must not run the command twice.
            if (
                command.delivery_id
                and session.get_transaction() is not claimed_in
                and not keep_claim(session, command.platform, command.delivery_id, now=self.clock())
            ):
                session.rollback()
                return Reply(status="duplicate")
            # A command that turned `language auto` on or off left the new value loaded;
            # one expired by a rollback keeps the value read before, with no extra load.
            if "locale_auto" not in inspect(user).unloaded:
                auto = user.locale_auto
            if auto:
                # A button answers in the language of the message it came with.
                reply.buttons = [
                    replace(b, payload={**b.payload, LANG: t.locale}) if b.action == RUN else b
                    for b in reply.buttons
                ]
            return reply

    def keyed(self, command: Command, seen: _Seen | None = None) -> bool:
        """Whether the command's line is a verb whose statements all find rows by key (its
        unit of work may use generic plans: `Verb.keyed`); read from the text alone."""
        text = self._text_of(command)
        if not text or len(text) > MAX_LINE:
            return False
        try:
            # As in `_run`: matching folds the text, which lone surrogates and NUL break.
            rules.readable("text", text)
        except CrmError:
            return False
        found = self._match(text.strip(), seen or _Seen())
        return found is not None and found[0].keyed

    def _match(self, text: str, seen: _Seen) -> tuple[Verb, str] | None:
        """`Registry.match` of `text`, read once per dispatch (the registry does not change
        while one runs, and the answer depends on the text alone)."""
        if text not in seen.matches:
            seen.matches[text] = self.registry.match(text)
        return seen.matches[text]

    @staticmethod
    def language(user: User, command: Command) -> str:
        """The language to answer in: the user's, or with `language auto` the message's own
        (a pressed button: the language of the reply it belonged to)."""
        if not user.locale_auto:
            return user.locale
        if command.action is not None:
            stamped = command.payload.get(LANG)
            return stamped if isinstance(stamped, str) and stamped in LOCALES else user.locale
        # Chinese both scripts write alike (管道) is answered in the person's own script.
        own = user.locale if user.locale in ("zh", HANT) else "zh"
        return detect(command.text, own) or user.locale

    def context(
        self,
        session: Session,
        user: User,
        picks: dict[str, int] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> Ctx:
        """The acting context of `user` in `session`: the one place a Ctx is built."""
        return Ctx(
            session,
            user,
            self.pipeline,
            self.default_currency,
            clock or self.clock,
            dict(picks or {}),
            self.settings,
        )

    def message(self, exc: CrmError, t: Translator, *, key: str | None = None) -> str:
        """The error in the user's words; stage names given by services are translated too.

        `key` words it with another message of the same parameters (the API's own wording).
        """
        params = dict(exc.params)
        if isinstance(params.get("stage"), str):
            params["stage"] = fmt.stage(t, params["stage"])
        status = params.get("status")
        if exc.key.startswith("error.ticket_") and t.has(f"ticket.status.{status}"):
            # A ticket's state, in the reader's words ("resolved" is 已解決).
            params["status"] = t(f"ticket.status.{status}")
        if "stages" in params:
            params["stages"] = ", ".join(fmt.stage(t, s.name) for s in self.pipeline.stages)
        return t(key or exc.key, **params)

    def _text_of(self, command: Command) -> str | None:
        if command.action is None:
            return command.text
        if command.action == RUN and isinstance(command.payload.get("text"), str):
            return str(command.payload["text"])
        return None

    @staticmethod
    def _picks_of(command: Command) -> dict[str, int]:
        raw = command.payload.get("pick") if command.action == RUN else None
        if not isinstance(raw, dict):
            return {}
        return {str(k): int(v) for k, v in raw.items() if isinstance(v, int)}

    def _run(
        self,
        ctx: Ctx,
        command: Command,
        text: str,
        t: Translator,
        picks: dict[str, int],
        seen: _Seen,
    ) -> Reply:
        text = text.strip()
        if not text:
            return Reply(text=t("error.empty"), status="info")
        # Before any parsing: folding and the database choke on lone surrogates and NUL.
        rules.readable("text", text)
        if len(text) > MAX_LINE:
            return Reply(text=t("error.too_long", field="text", limit=MAX_LINE), status="error")
        # A dictated message ("... comma ... full stop") is read with the marks it says.
        text = undictated(text)
        found = self._match(text, seen)
        if found is None:
            seen.verb = "unknown"
            try:
                return self._loose(ctx, command, text, t, seen, fallback=False) or self._unknown(
                    text, t
                )
            except Ambiguous as exc:
                ctx.session.rollback()
                return self._ambiguous(exc, text, picks, t)
        verb, args = found
        seen.verb = verb.name
        typed = "confirm" not in command.payload
        if (
            typed
            and verb.writes
            and not args.isascii()
            and (VERB_ASKED.search(char_view(args)) or TEAM_TOLD.match(char_view(args)))
        ):
            # "提醒可以設每個月一號嗎？怎麼用": the verb asked about, not used; "提醒一下大家：...":
            # the team told something. Its help, no card.
            return Reply(
                text=t("loose.no_write", verb=verb.local_name(t)),
                buttons=[
                    Button.run(t("loose.help_for", verb=verb.local_name(t)), f"help {verb.name}")
                ],
                status="info",
            )
        said = _said_part(verb, args)
        # A log line with its options keeps the courtesy of its note ("...: she says thanks").
        polite = COURTESY.search(char_view(text if said == args else said))
        if typed and (polite or LISTED_CUSTOMER.match(char_view(text))):
            # "move the acme fleet deal to negotiation please": a write read from the
            # sentence (or its one question) first; anything else goes to the grammar.
            try:
                first = self.interpreter.interpret(ctx, text, reads=False)
            except Ambiguous as exc:
                ctx.session.rollback()
                return self._ambiguous(exc, text, picks, t)
            if isinstance(first, Proposal) and first.writes:
                return loose_card.card(
                    t, first, ctx.actor.id, self.clock(), said=text, day_first=ctx.day_first
                )
            ctx.picks.clear()
            ctx.picks.update(picks)
        # A line with a sentence's words ("move the acme deal to won please") is tried as
        # the grammar without the spelling scan: its loose reading comes next anyway.
        sentence = typed and bool(SENTENCE_WORDS.search(char_view(said)))
        try:
            ctx.spelling = not sentence
            return verb.handler(
                Request(ctx, command, verb, args, text, t, self.registry, self.notes)
            )
        except CrmError as exc:
            # Nothing of a refused command is written.
            ctx.session.rollback()
            failed = exc
        finally:
            ctx.spelling = True
        usage = failed.key.startswith("usage.")
        # Names the grammar could not split in a plain write ("move Frontier Imports driver
        # app to won": no `/` between customer and deal) may be a sure card. A line with
        # parts (", deal Nope", ": owner @ghost") keeps the grammar's answer: a card would
        # drop the part it refused.
        unsplit = (
            isinstance(failed, (NotFound, Ambiguous))
            and verb.writes
            and not re.search(r"[,，:：@/]", args)
            # A record named by its `#id` ("完成 #99") was not split wrong: the grammar's
            # answer (no such record of yours) is final, never a card promising the write.
            and not re.match(r"\s*#\d+(?!\S)", args)
        )
        loose_first = sentence or (usage and not text.isascii())
        # A write line the grammar refused ("log metting w/ Karen, sterling care: ...", "log a
        # call w cynthia @ thunderbird: ...", "note on Copper Creek: ...") may still read as a
        # sentence; only a sure card is taken instead of the grammar's answer.
        # Only a line whose shape the grammar refused: a name it could not find ("log call
        # Umbrella Initech: x") keeps its question, never a card for a part of the name.
        refused_write = ((verb.writes or verb.name == "note") and usage) and not re.search(
            # A part named in the grammar's words (", deal Nope", ", with Dana"): its refusal
            # is the answer; a card would drop the part.
            r"[,，]\s*(?:deal|with|contact|owner|stage|close|industry|city|tags?|商机|联系人)\b",
            args,
        )
        # A read whose only words after it ask to see it ("销售漏斗给我瞅瞅", "管道看下"): the
        # read. A grammar line with a wrong part ("report funnel by team", "报表 赢单率 按颜色")
        # keeps the grammar's answer.
        refused_read = (
            not writes(verb, args)
            and isinstance(failed, Invalid)
            and bool(SHOW_ONLY.match(char_view(args)))
        )
        if typed and (loose_first or unsplit or refused_write or refused_read):
            # A typed line that starts like a command but is a sentence ("move acme to
            # negotiation please", Chinese the grammar cannot split: "记录：汇通医药王总来电
            # ...", or a write whose names the grammar cannot split: "move Frontier Imports
            # driver app to won"): its loose reading, when it is a sure card. A grammar line
            # with a wrong value keeps the grammar's own answer.
            ctx.picks.clear()
            ctx.picks.update(picks)
            try:
                retry = self._loose(
                    ctx,
                    command,
                    text,
                    t,
                    seen,
                    fallback=True,
                    matched=verb,
                )
            except Ambiguous as loose_exc:
                # The sentence's own question (Acme's open deals) beats the grammar's
                # (deals whose titles look like "acme"); a grammar line keeps its own.
                ctx.session.rollback()
                if loose_first:
                    return self._ambiguous(loose_exc, text, picks, t)
                retry = None
            except CrmError:
                ctx.session.rollback()
                retry = None
            if (
                retry is not None
                and retry.status == "confirm"
                and not (loose_first or unsplit)
                and self._tried(ctx, command, str(retry.to_json().get("command") or ""), t) is None
            ):
                # Read loosely only because the grammar refused a write: a card the grammar
                # refuses too ("reassign Acme to @carol" by someone who may not) is no answer.
                ctx.session.rollback()
                retry = None
            if retry is not None and (
                sentence or retry.status == "confirm" or (refused_read and retry.status == "ok")
            ):
                return retry
        if sentence and isinstance(failed, (Ambiguous, NotFound)):
            # The grammar's whole answer, spelling suggestions included.
            ctx.picks.clear()
            ctx.picks.update(picks)
            try:
                return verb.handler(
                    Request(ctx, command, verb, args, text, t, self.registry, self.notes)
                )
            except CrmError as exc:
                ctx.session.rollback()
                failed = exc
        if isinstance(failed, Ambiguous):
            return self._ambiguous(failed, text, picks, t)
        return Reply(text=self.message(failed, t), status="error")

    def _loose(
        self,
        ctx: Ctx,
        command: Command,
        text: str,
        t: Translator,
        seen: _Seen,
        *,
        fallback: bool,
        matched: Verb | None = None,
    ) -> Reply | None:
        """A sentence read as a command: a read runs, a write is a confirm card, else a
        question; None when there is nothing to say beyond the grammar's own answer."""
        outcome = self.interpreter.interpret(ctx, text, reads=False)
        if outcome is None:
            # No write read from the sentence: a grammar line inside courtesy ("please archive
            # Acme"), then the reads.
            for polite in self.interpreter.courteous_lines(text):
                reply = self._tried(ctx, command, polite, t)
                if reply is not None:
                    return reply
            outcome = self.interpreter.interpret(ctx, text)
        assert outcome is not None
        if (
            not isinstance(outcome, Proposal)
            and outcome.key == "loose.unsure"
            and self.proposer is not None
            and not fallback
        ):
            # Nothing the rules recognise: the model's proposal, checked like a grammar line
            # inside courtesy (a write is a confirm card, a read runs, a refusal is dropped).
            if text not in seen.proposals:
                seen.proposals[text] = self.proposer.propose(text)
            line = seen.proposals[text]
            tried = self._tried(ctx, command, line, t) if line is not None else None
            if tried is not None:
                return tried
        if not isinstance(outcome, Proposal):
            if fallback or outcome.key == "loose.unsure":
                # Nothing recognised: the grammar's answer, with the closest verb and help.
                return None
            params = dict(outcome.params)
            if isinstance(params.get("verb"), str):
                params["verb"] = self._local_verb(str(params["verb"]), t)
            return Reply(
                text=t(outcome.key, **params),
                buttons=[
                    # Labelled with the verb as the reader types it (幫助：提醒, not remind).
                    Button.run(t("loose.help_for", verb=self._local_verb(v, t)), f"help {v}")
                    for v in outcome.verbs
                ],
                status="info",
            )
        line = outcome.command
        if fallback and line.strip() == text.strip():
            return None
        if outcome.writes:
            return loose_card.card(
                t, outcome, ctx.actor.id, self.clock(), said=text, day_first=ctx.day_first
            )
        # A read runs at once, as the grammar line it stands for (never read loosely again).
        found = self.registry.match(line)
        if found is None:
            return None
        verb, args = found
        if (
            matched is not None
            and verb.name == matched.name
            and not args.strip()
            and not self.interpreter.courteous(text)
            and not SHOW_ONLY.match(char_view(_args_of(self.registry, text)))
        ):
            # The grammar's own verb with a word it refused ("forecast the future"): its
            # answer says what to type; only courtesy around it ("pipeline please") is dropped.
            # A reading with its words understood ("win rate by rep this qtr?" -> "... this
            # quarter") runs.
            return None
        return verb.handler(Request(ctx, command, verb, args, line, t, self.registry, self.notes))

    def _tried(self, ctx: Ctx, command: Command, line: str, t: Translator) -> Reply | None:
        """A grammar line found inside courtesy, run in a savepoint: a read's answer, a write's
        confirm card (the savepoint undone), the verb's own question or card; None when the
        grammar refuses it."""
        found = self.registry.match(line)
        if found is None:
            return None
        verb, args = found
        changes = writes(verb, args)
        try:
            with ctx.session.begin_nested() as savepoint:
                reply = verb.handler(
                    Request(ctx, command, verb, args, line, t, self.registry, self.notes)
                )
                if changes:
                    # Checked, not done: the card's Confirm runs it.
                    savepoint.rollback()
        except CrmError:
            return None
        if changes and reply.status == "ok":
            return loose_card.card(
                t,
                Proposal(verb, {}, line=line),
                ctx.actor.id,
                self.clock(),
                said=line,
                day_first=ctx.day_first,
            )
        return reply

    def _unknown(self, text: str, t: Translator) -> Reply:
        if text.isdigit():
            # A number pressed with no buttons showing (or beyond the last one): not a verb.
            return Reply(
                text=t("error.no_buttons", number=text),
                status="error",
                buttons=[Button.run(t("button.help"), "help")],
            )
        first = text.split()[0] if text.split() else text
        forms = {f: v for v in self.registry for f in (v.name, *v.aliases)}
        typed = to_simplified(first).lower()
        best = process.extractOne(typed, list(forms), scorer=fuzz.ratio, score_cutoff=60)
        if best is not None:
            # The form that was nearly typed when it is Chinese, else the verb as the reader
            # types it: a zh-Hant reader is pointed at `客戶`, an English one at `customer`.
            near = best[0] if not best[0].isascii() and t.chinese else ""
            verb = t.command(near) if near else forms[best[0]].local_name(t)
            hint = t("error.unknown_verb_suggest", word=first, verb=verb)
        else:
            hint = t("error.unknown_verb", word=first)
        return Reply(text=hint, status="error", buttons=[Button.run(t("button.help"), "help")])

    def _local_verb(self, name: str, t: Translator) -> str:
        """A verb's name as the reader types it; the name itself when it is no verb."""
        verb = self.registry.get(name)
        return verb.local_name(t) if verb is not None else name

    def _ambiguous(self, exc: Ambiguous, text: str, picks: dict[str, int], t: Translator) -> Reply:
        # Each button re-runs the same line with this choice (and any earlier ones) made.
        def detail(cand: Candidate) -> str:
            # A deal's detail is its stage's key (`lead`): shown in the reader's words.
            return fmt.stage(t, cand.detail) if exc.field == "deal" else cand.detail

        buttons = [
            Button.run(
                f"{cand.label} ({detail(cand)})" if cand.detail else cand.label,
                text,
                pick={**picks, exc.field: cand.id},
            )
            for cand in exc.candidates
        ]
        return Reply(
            text=t(f"ambiguous.{exc.field}", query=exc.query, count=len(exc.candidates)),
            buttons=buttons,
            status="info",
        )


def _args_of(registry: Registry, text: str) -> str:
    """The words after the verb the grammar finds in `text` (empty when none is found)."""
    found = registry.match(text)
    return found[1] if found is not None else ""


# A log line's own options after its customer: ", with 陈总", ", deal Fleet renewal".
_LOG_OPTION = re.compile(r"[,，]\s*(?:deal|with|contact|商机|联系人)\b")


def _said_part(verb: Verb, args: str) -> str:
    """The part of a line whose words tell a sentence from a grammar line: a `log` line that
    names its options (", with 陈总: they'll sign") is the grammar's whatever its note says, so
    only the words before the note count; any other line counts whole."""
    if verb.name != "log":
        return args
    head, body = split_colon(args)
    return head if body is not None and _LOG_OPTION.search(head) else args
