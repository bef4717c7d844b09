"""What an edit answers, for customers, contacts and deals alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from handlers.i18n import Translator
from handlers.reply import Button, Field, Reply


def edit_reply(
    t: Translator,
    changed: Mapping[str, tuple[Any, Any]],
    *,
    card: str,
    unchanged: str,
    done: str,
    label: Callable[[str], str],
    said: Callable[[str, Any], str],
    undo: str | None,
) -> Reply:
    """Each changed field before → after, a button to the record's card, and Undo when given."""
    open_card = Button.run(t("button.open"), card, "primary")
    if not changed:
        return Reply(text=unchanged, buttons=[open_card], status="info")
    buttons = [open_card]
    if undo is not None:
        buttons.append(Button.run(t("button.undo"), undo, "danger"))
    return Reply(
        text=done,
        fields=[
            Field(label(key), f"{said(key, before)} → {said(key, after)}")
            for key, (before, after) in changed.items()
        ],
        buttons=buttons,
    )
