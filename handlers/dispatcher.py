"""The one entry point every adapter calls: Command in, Reply out, never an exception."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session, sessionmaker

from crm_core import rules
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Ambiguous, CrmError
from crm_core.models import User, utcnow
from crm_core.services.deliveries import claim_delivery
from crm_core.services.interactions import MAX_TEXT as MAX_NOTE
from crm_core.settings import Settings
from crm_core.stages import Pipeline
from handlers import format as fmt
from handlers.i18n import Translator
from handlers.registry import NoteOpener, Registry, Request
from handlers.reply import DISMISS, RUN, Button, Command, Reply

log = logging.getLogger(__name__)
# A whole line: the longest note the service accepts plus room for the verb and options.
MAX_LINE = MAX_NOTE + 1_000


class CommandObserver(Protocol):
    """Told about every dispatched command (metrics): platform, verb, outcome, seconds taken.

    `verb` is the verb's name, or "unknown" / "none" when no verb ran; `outcome` is the
    Reply's status, or "failed" when the command raised (the user got a reference id).
    """

    def command_done(self, platform: str, verb: str, outcome: str, seconds: float) -> None:
        """Record one command; must be quick and must not raise."""
        ...


@dataclass
class _Seen:
    """What one dispatch found out, for the observers."""

    verb: str = "none"
    outcome: str | None = None


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
        # Metrics and the like (bot/ binds them); handlers and crm_core never import them.
        self.observers: list[CommandObserver] = []

    def dispatch(self, command: Command) -> Reply:
        """Handle a command; failures become replies that say what to type instead."""
        started = time.perf_counter()
        seen = _Seen()
        reply = self._dispatch(command, seen)
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

    def _dispatch(self, command: Command, seen: _Seen) -> Reply:
        t = Translator("en")
        try:
            with unit_of_work(self.session_factory) as session:
                user = session.get(User, command.user_id)
                if user is None or not user.active:
                    return Reply(text=t("error.account_inactive"), status="error")
                t = Translator(user.locale)
                if command.delivery_id and not claim_delivery(
                    session, command.platform, command.delivery_id, now=self.clock()
                ):
                    return Reply(status="duplicate")
                if command.action == DISMISS:
                    return Reply(text=t("confirm.cancelled"), status="info")
                text = self._text_of(command)
                if text is None:
                    return Reply(text=t("error.button_expired"), status="error")
                picks = self._picks_of(command)
                ctx = self.context(session, user, picks)
                return self._run(ctx, command, text, t, picks, seen)
        except CrmError as exc:
            return Reply(text=self.message(exc, t), status="error")
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
            return Reply(text=t("error.internal", ref=ref), status="error")

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

    def message(self, exc: CrmError, t: Translator) -> str:
        """The error in the user's words; stage names given by services are translated too."""
        params = dict(exc.params)
        if isinstance(params.get("stage"), str):
            params["stage"] = fmt.stage(t, params["stage"])
        if "stages" in params:
            params["stages"] = ", ".join(fmt.stage(t, s.name) for s in self.pipeline.stages)
        return t(exc.key, **params)

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
        found = self.registry.match(text)
        if found is None:
            seen.verb = "unknown"
            return self._unknown(text, t)
        verb, args = found
        seen.verb = verb.name
        try:
            return verb.handler(
                Request(ctx, command, verb, args, text, t, self.registry, self.notes)
            )
        except Ambiguous as exc:
            ctx.session.rollback()
            return self._ambiguous(exc, text, picks, t)
        except CrmError as exc:
            # Nothing of a refused command is written.
            ctx.session.rollback()
            return Reply(text=self.message(exc, t), status="error")

    def _unknown(self, text: str, t: Translator) -> Reply:
        if text.isdigit():
            # A number pressed with no buttons showing (or beyond the last one): not a verb.
            return Reply(
                text=t("error.no_buttons", number=text),
                status="error",
                buttons=[Button.run(t("button.help"), "help")],
            )
        first = text.split()[0] if text.split() else text
        forms = {f: v.name for v in self.registry for f in (v.name, *v.aliases)}
        best = process.extractOne(first.lower(), list(forms), scorer=fuzz.ratio, score_cutoff=60)
        if best is not None:
            hint = t("error.unknown_verb_suggest", word=first, verb=forms[best[0]])
        else:
            hint = t("error.unknown_verb", word=first)
        return Reply(text=hint, status="error", buttons=[Button.run(t("button.help"), "help")])

    def _ambiguous(self, exc: Ambiguous, text: str, picks: dict[str, int], t: Translator) -> Reply:
        # Each button re-runs the same line with this choice (and any earlier ones) made.
        buttons = [
            Button.run(
                f"{cand.label} ({cand.detail})" if cand.detail else cand.label,
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
