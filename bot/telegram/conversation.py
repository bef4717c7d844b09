"""Any declared form as a Telegram conversation: one step per field, a confirm card, /cancel."""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram.core import STEP_BUTTON, Core, Who
from bot.telegram.identity import CrmContext
from bot.telegram.sending import Sender
from crm_core.zones import zone
from handlers.forms import FieldKind, Form, FormField, shown
from handlers.i18n import Translator
from handlers.reply import Attachment, Button, Command, Field, Location, OpenForm, Reply

if TYPE_CHECKING:
    from telegram.ext import CallbackContext

log = logging.getLogger(__name__)

# States: a location's offer to log a visit, a field being asked, the confirm card.
OFFER, ASK, CONFIRM = range(3)
END = ConversationHandler.END
# Actions of conversation buttons (stored behind tokens like every other button).
A_VISIT, A_PICK, A_SAVE, A_CANCEL = "tg.visit", "tg.pick", "tg.save", "tg.cancel"
# The form a shared location starts, and the field it fills.
VISIT_FORM = "log"


@dataclass
class Draft:
    """A form being filled in step by step (platform state until it is submitted)."""

    form: str
    values: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    # Fields already answered (or settled by how the form started); the next step is the first
    # step field not in here.
    done: set[str] = field(default_factory=set)
    current: str | None = None
    attachments: tuple[Attachment, ...] = ()


def draft_of(context: CallbackContext[Any, Any, Any, Any]) -> Draft | None:
    """The chat's draft, if a conversation is under way."""
    data = context.chat_data
    draft = data.get("draft") if data is not None else None
    return draft if isinstance(draft, Draft) else None


def _zone(who: Who) -> ZoneInfo:
    return zone(who.timezone)


class FormSteps:
    """The steps of any form: what to ask next, reading answers, the card, the submit."""

    def __init__(self, core: Core, sender: Sender) -> None:
        self.core = core
        self.gateway = core.gateway
        self.sender = sender

    # -- starting -------------------------------------------------------------------------------

    async def begin(
        self,
        update: Update,
        context: CallbackContext[Any, Any, Any, Any],
        who: Who,
        opened: OpenForm,
        *,
        settled: tuple[str, ...] = (),
        attachments: tuple[Attachment, ...] = (),
    ) -> int:
        """Start filling in a form from its initial values."""
        draft = Draft(
            opened.name,
            dict(opened.values),
            dict(opened.labels),
            {*settled, *opened.settled},
            attachments=attachments,
        )
        assert context.chat_data is not None
        context.chat_data["draft"] = draft
        return await self.next_step(update, who, draft)

    async def offer_visit(
        self, update: Update, context: CallbackContext[Any, Any, Any, Any], who: Who
    ) -> int:
        """A shared location offers to log a visit there."""
        message = update.message
        assert message is not None and message.location is not None
        loc = message.location
        draft = Draft(
            VISIT_FORM,
            {"kind": "visit"},
            done={"kind"},
            attachments=(Location(loc.latitude, loc.longitude),),
        )
        assert context.chat_data is not None
        context.chat_data["draft"] = draft
        t = who.t
        buttons = [Button(t("button.log_visit_here"), A_VISIT, {}, "primary"), _cancel(t)]
        await self.sender.ask(update, who, Reply(text=t("telegram.visit.offer"), buttons=buttons))
        return OFFER

    def _form(self, draft: Draft) -> Form:
        form = self.gateway.form(draft.form)
        assert form is not None
        return form

    # -- asking ---------------------------------------------------------------------------------

    async def next_step(self, update: Update, who: Who, draft: Draft) -> int:
        """Ask the next unanswered field, or show the confirm card."""
        form = self._form(draft)
        pending = [f for f in form.steps if f.name not in draft.done]
        if not pending:
            draft.current = None
            await self.sender.ask(update, who, self._card(form, who.t, draft))
            return CONFIRM
        f = pending[0]
        draft.current = f.name
        await self.sender.ask(update, who, await self._prompt(form, f, who, draft))
        return ASK

    def _asked(self, form: Form, f: FormField, t: Translator, draft: Draft) -> str:
        """The question of a step, naming the answers so far."""
        answers = {g.name: shown(g, draft.values.get(g.name), t, draft.labels) for g in form.fields}
        if f.ask:
            return t(f.ask, **answers)
        key = "form.ask_choice" if f.kind is FieldKind.choice else "form.ask_text"
        return t(key, field=t(f.label))

    async def _prompt(self, form: Form, f: FormField, who: Who, draft: Draft) -> Reply:
        t = who.t
        buttons: list[Button] = []
        if f.kind is FieldKind.record:
            recent = await asyncio.to_thread(
                self.core.off_held, self.gateway.customer_choices, who.user_id, "", 6
            )
            buttons = [_pick(f, c.id, c.name) for c in recent]
            text = t(f.ask) if f.ask else t("form.record_ask" if recent else "form.record_type")
            return Reply(text=text, buttons=[*buttons, _cancel(t)])
        if f.kind is FieldKind.choice and f.choices:
            buttons = [_pick(f, value, label) for value, label in f.choices(t)]
        elif f.kind is FieldKind.date:
            today = self.core.clock().astimezone(_zone(who)).date()
            buttons = [
                _pick(f, (today + timedelta(days=1)).isoformat(), t("button.tomorrow")),
                # The Monday of next week: "next week" in a field rep's mouth.
                _pick(
                    f,
                    (today + timedelta(days=7 - today.weekday())).isoformat(),
                    t("button.next_week"),
                ),
            ]
        current = draft.values.get(f.name)
        if f.kind is not FieldKind.choice and current not in (None, ""):
            keep = shown(f, current, t, draft.labels)
            buttons.append(_pick(f, _wire(current), t("button.keep", value=keep[:40])))
        if not f.required and f.kind is not FieldKind.choice:
            buttons.append(_pick(f, None, t(f.skip)))
        return Reply(text=self._asked(form, f, t, draft), buttons=[*buttons, _cancel(t)])

    def _card(self, form: Form, t: Translator, draft: Draft) -> Reply:
        fields = [
            Field(t(f.label), shown(f, draft.values.get(f.name), t, draft.labels))
            for f in form.fields
            if f.step or draft.values.get(f.name) not in (None, "")
        ]
        for attachment in draft.attachments:
            if isinstance(attachment, Location):
                where = f"{attachment.latitude:.5f}, {attachment.longitude:.5f}"
                fields.append(Field(t("form.location"), where))
        buttons = [Button(t("button.save"), A_SAVE, {}, "primary"), _cancel(t)]
        return Reply(title=t(form.confirm), fields=fields, buttons=buttons)

    # -- answers --------------------------------------------------------------------------------

    async def answer(
        self, update: Update, who: Who, draft: Draft, value: Any, label: str
    ) -> int | None:
        """Take a value for the current field once the services accept it."""
        form = self._form(draft)
        name = draft.current
        assert name is not None
        f = form.field(name)
        value = _unwire(f, value)
        trial = {**draft.values, name: value}
        problem = await asyncio.to_thread(
            self.core.off_held, self.gateway.check, form, who.user_id, trial, name
        )
        if problem is not None:
            reply = await self._prompt(form, f, who, draft)
            await self.sender.ask(
                update, who, Reply(text=problem, buttons=reply.buttons, status="error")
            )
            return None
        draft.values[name] = value
        if f.kind is FieldKind.record and label:
            draft.labels[name] = label
        draft.done.add(name)
        return await self.next_step(update, who, draft)

    async def typed(self, update: Update, who: Who, draft: Draft, text: str) -> int | None:
        """A typed answer: read as the field's kind; a record searches."""
        form = self._form(draft)
        if draft.current is None:
            return None
        f = form.field(draft.current)
        t = who.t
        if f.kind is FieldKind.record:
            query = text.strip()
            hits = await asyncio.to_thread(
                self.core.off_held, self.gateway.customer_choices, who.user_id, query, 8
            )
            if len(hits) == 1:
                return await self.answer(update, who, draft, hits[0].id, hits[0].name)
            key = "form.record_many" if hits else "form.record_none"
            buttons = [_pick(f, c.id, c.name) for c in hits]
            reply = Reply(text=t(key, query=query), buttons=[*buttons, _cancel(t)], status="info")
            await self.sender.ask(update, who, reply)
            return None
        value, problem = await asyncio.to_thread(
            self.core.off_held, self.gateway.read, form, who.user_id, f.name, text
        )
        if problem is not None:
            prompt = await self._prompt(form, f, who, draft)
            await self.sender.ask(
                update, who, Reply(text=problem, buttons=prompt.buttons, status="error")
            )
            return None
        return await self.answer(update, who, draft, value, "")

    async def tapped(
        self, update: Update, who: Who, draft: Draft, action: str, payload: dict[str, Any]
    ) -> int | None:
        """A step button of the current step (others have expired)."""
        if action == A_PICK:
            return await self.answer(
                update, who, draft, payload.get("value"), str(payload.get("label") or "")
            )
        return await self.next_step(update, who, draft)

    def expects(self, draft: Draft, state_action: str, payload: dict[str, Any]) -> bool:
        """Whether a pressed step button belongs to the step the draft is at."""
        if state_action == A_PICK:
            return draft.current is not None and payload.get("field") == draft.current
        if state_action == A_SAVE:
            return draft.current is None and bool(draft.done)
        return state_action == A_VISIT and not draft.current

    # -- the end --------------------------------------------------------------------------------

    async def save(
        self, update: Update, context: CallbackContext[Any, Any, Any, Any], who: Who, draft: Draft
    ) -> int:
        """Submit the form as the person; errors send them back to the first failing field."""
        chat = update.effective_chat
        assert chat is not None
        form = self._form(draft)
        # The same card saved twice (a double tap) is one write.
        message = update.callback_query.message if update.callback_query else None
        key = f"telegram:{chat.id}:{message.message_id if message else update.update_id}"
        command = Command(
            who.user_id,
            "telegram",
            chat_id=str(chat.id),
            attachments=draft.attachments,
            idempotency_key=key,
            delivery_id=str(update.update_id),
        )
        submitted = await asyncio.to_thread(
            self.core.off_held, self.gateway.submit, form, command, draft.values
        )
        if submitted.errors:
            name = next(f.name for f in form.fields if f.name in submitted.errors)
            draft.done.discard(name)
            await self.sender.say(chat.id, None, Reply(text=submitted.errors[name], status="error"))
            return await self.next_step(update, who, draft)
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        reply = submitted.reply
        if reply is not None and reply.status != "duplicate":
            await self.sender.say(chat.id, who, reply)
        return END


class FormConversation:
    """The ConversationHandler around FormSteps: PTB's states, /cancel and the timeout."""

    def __init__(self, core: Core, sender: Sender, timeout: float) -> None:
        self.core = core
        self.sender = sender
        self.steps = FormSteps(core, sender)
        self.conversation_timeout = timeout

    async def begin(
        self,
        update: Update,
        context: CallbackContext[Any, Any, Any, Any],
        who: Who,
        opened: OpenForm,
    ) -> int:
        """Start the steps of a form a command opened."""
        return await self.steps.begin(update, context, who, opened)

    def handler(self, entry_points: list[Any]) -> ConversationHandler[CrmContext]:
        """The ConversationHandler: any form a command opens, and a shared location's visit."""
        private_message = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        step: CallbackQueryHandler[CrmContext, Any] = CallbackQueryHandler(
            self.on_button, pattern=f"^{STEP_BUTTON}"
        )
        typed = filters.TEXT & ~filters.COMMAND & private_message
        other = ~filters.COMMAND & private_message
        with warnings.catch_warnings():
            # Tracking per chat and user (not per message) is the point: steps are messages.
            warnings.filterwarnings("ignore", message=".*per_message=False.*")
            return ConversationHandler(
                entry_points=[
                    *entry_points,
                    MessageHandler(filters.LOCATION & private_message, self.on_location),
                ],
                states={
                    OFFER: [step, MessageHandler(other, self.on_offer_typed)],
                    ASK: [step, MessageHandler(typed, self.on_typed)],
                    CONFIRM: [step, MessageHandler(other, self.on_confirm_typed)],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, self.on_timeout)],
                },
                fallbacks=[
                    CommandHandler("cancel", self.cancel),
                    MessageHandler(other, self.on_unsupported),
                ],
                conversation_timeout=self.conversation_timeout,
                per_chat=True,
                per_user=True,
            )

    async def on_location(self, update: Update, context: CrmContext) -> int:
        """A shared location offers to log a visit there."""
        who = context.who
        assert who is not None
        if not await self.sender.claim(update):
            return END
        return await self.steps.offer_visit(update, context, who)

    async def on_button(self, update: Update, context: CrmContext) -> int | None:
        """A tap on a conversation button: the step it belongs to moves on."""
        query, who, draft = update.callback_query, context.who, draft_of(context)
        assert query is not None and who is not None
        t = who.t
        token = (query.data or "")[len(STEP_BUTTON) :]
        found = await asyncio.to_thread(self.core.redeem, who, token)
        if draft is None or found is None:
            await query.answer(t("error.button_expired"))
            return None
        action, payload = found
        if action == A_CANCEL:
            await query.answer()
            await mark(query, t("button.cancel"))
            return await self.cancel(update, context)
        if not self.steps.expects(draft, action, payload):
            # A button of an earlier step, pressed again.
            await query.answer(t("error.button_expired"))
            return None
        await query.answer()
        labels = {A_SAVE: t("button.save"), A_VISIT: t("button.log_visit_here")}
        await mark(query, labels.get(action) or str(payload.get("label") or ""))
        if action == A_SAVE:
            # The gateway records this update with what the form writes.
            return await self.steps.save(update, context, who, draft)
        if not await self.sender.claim(update):
            return None
        return await self.steps.tapped(update, who, draft, action, payload)

    async def on_typed(self, update: Update, context: CrmContext) -> int | None:
        """A typed answer to the step being asked."""
        message, who, draft = update.message, context.who, draft_of(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self.sender.claim(update):
            return None
        return await self.steps.typed(update, who, draft, message.text)

    async def on_offer_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self.sender.claim(update):
            t = who.t
            buttons = [
                Button(t("button.log_visit_here"), A_VISIT, {}, "primary"),
                Button(t("button.cancel"), A_CANCEL, {}, "danger"),
            ]
            await self.sender.ask(update, who, Reply(text=t("telegram.visit.tap"), buttons=buttons))
        return None

    async def on_confirm_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self.sender.claim(update):
            t = who.t
            buttons = [
                Button(t("button.save"), A_SAVE, {}, "primary"),
                Button(t("button.cancel"), A_CANCEL, {}, "danger"),
            ]
            reply = Reply(text=t("form.confirm_tap"), buttons=buttons, status="info")
            await self.sender.ask(update, who, reply)
        return None

    async def on_unsupported(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self.sender.claim(update):
            await self.sender.ask(update, who, Reply(text=who.t("form.type_text"), status="info"))
        return None

    async def cancel(self, update: Update, context: CrmContext) -> int:
        """`/cancel` (or the Cancel button) at any step: nothing is saved."""
        who, chat = context.who, update.effective_chat
        assert who is not None and chat is not None
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        await self.sender.say(chat.id, None, Reply(text=who.t("form.cancelled")))
        return END

    async def on_timeout(self, update: Update, context: CrmContext) -> None:
        """The conversation waited too long: say so, politely, and drop the draft."""
        chat = update.effective_chat
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        if chat is None or update.effective_user is None:
            return
        who = context.who or await asyncio.to_thread(self.core.who, update.effective_user.id)
        t = who.t if who else Translator("en")
        minutes = max(1, round(self.conversation_timeout / 60))
        await self.sender.say(chat.id, None, Reply(text=t("form.timeout", minutes=minutes)))


def _pick(f: FormField, value: Any, label: str) -> Button:
    return Button(label, A_PICK, {"field": f.name, "value": value, "label": label})


def _cancel(t: Translator) -> Button:
    return Button(t("button.cancel"), A_CANCEL, {}, "danger")


def _wire(value: Any) -> Any:
    """A value as a button payload holds it (JSON)."""
    return value.isoformat() if isinstance(value, date) else value


def _unwire(f: FormField, value: Any) -> Any:
    """A button payload's value as the field's type."""
    if f.kind is FieldKind.date and isinstance(value, str):
        return date.fromisoformat(value)
    return value


async def mark(query: Any, choice: str) -> None:
    """Replace a prompt's keyboard with the choice made, so old buttons cannot be reused."""
    message = query.message
    if not isinstance(message, Message):
        return
    text = f"{escape(message.text or '', quote=False)}\n→ <b>{escape(choice, quote=False)}</b>"
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        # Cosmetic only: the step goes on even when the old prompt cannot be edited.
        log.info("could not mark the chosen button: %s", exc)


__all__ = ["ASK", "CONFIRM", "END", "OFFER", "STEP_BUTTON", "Draft", "FormConversation", "draft_of"]
