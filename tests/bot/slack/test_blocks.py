"""The Block Kit renderer: every element of Reply renders, and Slack's limits are kept."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_BUTTON_VALUE,
    MAX_SECTION,
    SHARE,
    TOO_LONG,
    decode_button,
    encode_button,
    escape,
    render,
)
from handlers.i18n import Translator
from handlers.reply import Button, Field, Reply, Section
from tests.bot.slack.conftest import blocks_text, buttons_of

T = Translator("en")


def full_reply() -> Reply:
    """A reply using every element."""
    return Reply(
        text="Some text",
        title="Acme",
        fields=[Field("Owner", "Alice")],
        items=["first item"],
        sections=[Section("Contacts", ["Dana"])],
        buttons=[
            Button.run("Go", "customer #1", "primary"),
            Button.run("Drop", "undo #2", "danger"),
        ],
        image=b"\x89PNG...",
        ephemeral=True,
        shareable=True,
    )


def test_every_element_of_reply_renders() -> None:
    """Title, text, fields, items, sections, buttons with styles, image and share all appear."""
    reply = full_reply()
    handled = {
        "text",
        "title",
        "fields",
        "items",
        "sections",
        "buttons",
        "image",
        "ephemeral",
        "status",
        "shareable",
        # Opened as a modal by the adapter, not drawn in blocks (test_modals.py).
        "form",
        # For `crmbot run --json` only; the reply's text already says it in words.
        "data",
    }
    # A new Reply field must be rendered (and added here), never silently dropped.
    assert {f.name for f in dataclasses.fields(Reply)} == handled
    (message,) = render(reply, T, share={"text": "customer Acme"}, image_file_id="F1")
    kinds = [b["type"] for b in message.blocks]
    assert kinds[0] == "header" and "image" in kinds and kinds[-1] == "actions"
    text = blocks_text(message.blocks)
    for part in ("Acme", "Some text", "*Owner*\nAlice", "• first item", "*Contacts*", "• Dana"):
        assert part in text
    image = next(b for b in message.blocks if b["type"] == "image")
    assert image["slack_file"] == {"id": "F1"}
    buttons = buttons_of(message.blocks)
    assert [b["text"]["text"] for b in buttons] == ["Go", "Drop", "Share in channel"]
    assert [b.get("style") for b in buttons] == ["primary", "danger", None]
    assert decode_button(buttons[2]["value"]) == (SHARE, {"text": "customer Acme"})
    assert len({b["action_id"] for b in buttons}) == 3
    assert message.text == "Acme"


def test_image_without_an_uploaded_file_is_an_error_not_a_drop() -> None:
    """The sender must upload first; rendering an image without a file id fails loudly."""
    with pytest.raises(ValueError):
        render(full_reply(), T)


def test_error_status_is_marked_and_empty_reply_still_says_something() -> None:
    """Errors get a warning sign; an empty reply renders a short 'Done.'."""
    (err,) = render(Reply(text="No such customer", status="error"), T)
    assert blocks_text(err.blocks).startswith(":warning: No such customer")
    (empty,) = render(Reply(), T)
    assert blocks_text(empty.blocks) == "Done."


def test_not_shareable_or_public_has_no_share_button() -> None:
    """Share only where the reply says sharing makes sense."""
    (msg,) = render(Reply(text="hi", buttons=[Button.run("A", "help")]), T, share={"text": "x"})
    assert [b["text"]["text"] for b in buttons_of(msg.blocks)] == ["A"]


def test_long_replies_split_at_50_blocks_and_3000_characters() -> None:
    """120 sections become several messages of at most 50 blocks; no section over 3,000."""
    reply = Reply(
        title="Report",
        text="y" * 7_000,
        sections=[Section(f"S{i}", ["line"]) for i in range(120)],
        buttons=[Button.run("More", "customers page 2")],
    )
    messages = render(reply, T)
    assert len(messages) == 3
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    texts = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert all(len(x) <= MAX_SECTION for x in texts)
    assert sum(x.count("y") for x in texts) == 7_000  # split, never cut
    assert messages[-1].blocks[-1]["type"] == "actions"


def test_many_fields_and_items_fit_the_limits() -> None:
    """More than 10 fields become several sections; 500 items are all there."""
    reply = Reply(
        fields=[Field(f"F{i}", "v") for i in range(23)], items=[f"i{i}" for i in range(500)]
    )
    blocks = [b for m in render(reply, T) for b in m.blocks]
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 10, 3]
    assert blocks_text(blocks).count("• i") == 500


def test_button_values_fit_2000_characters_or_say_so() -> None:
    """Short payloads are JSON; long ones compressed; too long ones become an explanation."""
    short = encode_button("run", {"text": "customer #1"})
    assert json.loads(short)["p"] == {"text": "customer #1"}
    repetitive = {"text": "log call Acme: " + "ok " * 2_000, "pick": {"customer": 4}}
    packed = encode_button("run", repetitive)
    assert len(packed) <= MAX_BUTTON_VALUE and decode_button(packed) == ("run", repetitive)
    import random

    rng = random.Random(1)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6_000))
    too_long = encode_button("run", {"text": "log call Acme: " + noise, "pick": {"customer": 4}})
    assert len(too_long) <= MAX_BUTTON_VALUE
    assert decode_button(too_long) == (TOO_LONG, {"pick": {"customer": 4}})
    assert decode_button("not json") is None


def test_mrkdwn_is_escaped_but_mentions_survive() -> None:
    """Customer text cannot inject links or formatting tokens; <@U1> still mentions."""
    assert escape("a <b> & <!channel>") == "a &lt;b&gt; &amp; &lt;!channel&gt;"
    assert escape("linked <@U123|dana>") == "linked <@U123>"


def test_long_title_and_button_label_stay_within_limits() -> None:
    """A 200-character title becomes bold text; a long label is shortened visibly."""
    (msg,) = render(Reply(title="T" * 200, buttons=[Button.run("L" * 100, "help")]), T)
    assert msg.blocks[0]["type"] == "section"
    assert buttons_of(msg.blocks)[0]["text"]["text"].endswith("…")
    assert len(buttons_of(msg.blocks)[0]["text"]["text"]) == 75
