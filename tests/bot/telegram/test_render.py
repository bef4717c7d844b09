"""The HTML renderer: escaping, bold titles, splitting at 4,096, keyboards, photos."""

from __future__ import annotations

import dataclasses

from bot.telegram.render import LIMIT, chunks, render, reply_lines, units
from handlers.reply import Button, Field, Reply, Section
from tests.bot.telegram.fake_api import parse_html

HOSTILE = "<script>alert(1)</script> & Sons <b>unclosed"


def _data(button: Button) -> str:
    return "b:" + button.label[:8]


def test_everything_user_supplied_is_escaped_and_the_html_parses() -> None:
    """Hostile names in the title, fields, items and sections are shown, never interpreted."""
    reply = Reply(
        title=HOSTILE,
        text=f"Logged with {HOSTILE}",
        fields=[Field("Owner", HOSTILE)],
        items=[HOSTILE],
        sections=[Section(HOSTILE, [HOSTILE])],
    )
    (message,) = render(reply, _data)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html and "&amp; Sons" in message.html
    assert message.html.startswith("<b>&lt;script&gt;")
    text, problem = parse_html(message.html)
    assert problem is None
    assert text.count(HOSTILE) == 6


def test_backticked_commands_become_code() -> None:
    """Catalogue texts write commands in backticks: they render as <code>."""
    (message,) = render(Reply(text="Type `find <acme>` & go"), None)
    assert message.html == "Type <code>find &lt;acme&gt;</code> &amp; go"


def test_long_replies_split_at_line_boundaries_without_breaking_tags() -> None:
    """A long list becomes several messages of at most 4,096 units, each valid HTML."""
    reply = Reply(title="Customers", items=[f"Customer <{i}> & Co " + "x" * 80 for i in range(200)])
    messages = render(reply, _data)
    assert len(messages) > 1
    for m in messages:
        assert units(m.html) <= LIMIT
        assert parse_html(m.html)[1] is None
    joined = "".join(parse_html(m.html)[0] for m in messages)
    assert all(f"Customer <{i}> & Co" in joined for i in range(200))


def test_one_huge_line_is_cut_and_its_tags_reopened() -> None:
    """A line longer than a message (a long note) is cut; bold parts stay bold in each piece."""
    long = "word&<" * 3000
    lines = reply_lines(Reply(fields=[Field("Note", long)], title="T" * 5000))
    messages = chunks(lines)
    assert len(messages) >= 4
    for m in messages:
        assert units(m) <= LIMIT
        assert parse_html(m)[1] is None
    assert "".join(parse_html(m)[0] for m in messages).replace("\n", "").count("word&<") == 3000


def test_emoji_count_as_two_units() -> None:
    """Telegram counts UTF-16 units: a reply of emoji splits earlier than its len()."""
    messages = chunks(reply_lines(Reply(items=["😀" * 100] * 30)))
    assert len(messages) == 2
    assert all(units(m) <= LIMIT for m in messages)


def test_buttons_become_a_keyboard_on_the_last_message() -> None:
    """Short labels share a row; long ones get their own; only the last message has them."""
    buttons = [
        Button.run("Undo", "undo #1"),
        Button.run("Open", "customer #1"),
        Button.run("A much longer label here", "x"),
    ]
    messages = render(Reply(items=["y" * 100] * 100, buttons=buttons), _data)
    assert all(not m.keyboard for m in messages[:-1])
    assert messages[-1].keyboard == [
        [("Undo", "b:Undo"), ("Open", "b:Open")],
        [("A much longer label here", "b:A much l")],
    ]


def test_without_a_presser_buttons_are_written_out() -> None:
    """In a notice nobody can press, each button becomes a line with its command."""
    (message,) = render(Reply(text="Due", buttons=[Button.run("Done", "done #3")]), None)
    assert message.keyboard == []
    assert "<b>Done</b>: <code>done #3</code>" in message.html


def test_an_image_goes_first_as_a_photo() -> None:
    """Reply.image becomes a photo, followed by the text with the keyboard."""
    messages = render(
        Reply(
            text="Chart",
            title="Funnel · all deals",
            image=b"\x89PNG",
            buttons=[Button.run("Again", "x")],
        ),
        _data,
    )
    assert messages[0].photo == b"\x89PNG"
    assert messages[0].caption == "Funnel · all deals"
    assert messages[1].html.endswith("Chart") and messages[1].keyboard


# Delivery hints and what the adapter does instead of drawing (a form opens a conversation:
# tests/bot/telegram/test_conversation.py): they change how a reply is sent, not what it says.
# "data" is for `crmbot run --json` only; the text of a reply already says it in words.
NOT_DRAWN = {"ephemeral", "status", "shareable", "form", "data"}
PNG = b"\x89PNG\r\n\x1a\nnot-really-a-png"


def test_every_element_of_reply_is_rendered() -> None:
    """A field added to Reply without Telegram rendering fails here, never a silent drop."""
    samples: dict[str, object] = {
        "title": "Acme Logistics",
        "text": "Logged a call with Acme.",
        "fields": [Field("Owner", "Alice")],
        "items": ["first item"],
        "sections": [Section("Contacts", ["Dana Li"])],
        "buttons": [Button.run("Open", "customer #1"), Button("Undo", "undo", {"id": 3})],
        "image": PNG,
    }
    names = {f.name for f in dataclasses.fields(Reply)}
    assert names - NOT_DRAWN == set(samples), "render the new Reply field in bot/telegram/render.py"
    assert names >= NOT_DRAWN
    messages = render(Reply(**samples), _data)  # type: ignore[arg-type]
    assert messages[0].photo == PNG
    text = "\n".join(parse_html(m.html)[0] for m in messages if m.html)
    for expected in ("Acme Logistics", "Logged a call with Acme.", "Owner", "Alice", "first item"):
        assert expected in text
    assert "Contacts" in text and "Dana Li" in text
    assert [label for row in messages[-1].keyboard for label, _ in row] == ["Open", "Undo"]
    # Where nobody can press them (a group notice), the buttons are written out instead.
    unpressable = "\n".join(m.html for m in render(Reply(**samples), None))  # type: ignore[arg-type]
    assert "Open" in unpressable and "customer #1" in unpressable and "Undo" in unpressable
