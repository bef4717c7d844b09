"""Slack markup read as plain text: unit cases, and "Log to CRM" end to end."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.slack.markup import mentioned_users, mentions_as_handles, plain_text
from crm_core.models import Interaction, Reminder
from tests.bot.slack.conftest import SlackHarness
from tests.bot.slack.test_modals import shortcut, state, submit


def test_links_mentions_channels_specials_and_entities() -> None:
    """Each kind of control sequence, and the three escaped characters."""
    raw = (
        "see <http://customer.io|customer.io> and <https://acme.example/q?a=1&amp;b=2> "
        "<mailto:dana@acme.example|dana@acme.example> ask <@U1> and <@W2|old> "
        "in <#C1|sales> <#C2> <!here> <!channel> <!subteam^S1|@sales-team> <!subteam^S2> "
        "<!date^1392734382^{date_short}|Feb 18, 2014> 3 &lt; 4 &amp;&amp; 5 &gt; 1 &amp;lt;"
    )
    assert plain_text(raw, {"U1": "Dana Ruiz"}) == (
        "see customer.io and https://acme.example/q?a=1&b=2 dana@acme.example ask Dana Ruiz "
        "and old in #sales #C2 @here @channel @sales-team @S2 Feb 18, 2014 3 < 4 && 5 > 1 &lt;"
    )
    assert plain_text("价格 &amp; 交期 <@U9>", {}) == "价格 & 交期 U9"
    assert mentioned_users("<@U1> <@W2|x> <@U1> <#C1>") == ["U1", "W2"]


def test_command_mentions_become_handles() -> None:
    """`remind <@UBOB|bob>`: the linked user's handle, else the label, else the id."""
    handles = {"UBOB": "bob"}
    assert mentions_as_handles("<@UBOB|robert> tue x", handles.get) == "@bob tue x"
    assert mentions_as_handles("<@UX|erin> x", handles.get) == "@erin x"
    assert mentions_as_handles("<@UX> x", handles.get) == "@UX x"


async def test_log_to_crm_stores_plain_text(slack: SlackHarness) -> None:
    """Mentions become names (crmbot's, else Slack's, else the id); links, channels read plainly."""
    slack.fake.users["UDANA"] = {
        "id": "UDANA",
        "team_id": "T2",
        "real_name": "Dana Ruiz",
        "profile": {"real_name": "Dana Ruiz", "display_name": "dana"},
    }
    slack.fake.users["UEVE"] = {"id": "UEVE", "profile": {"real_name": "", "display_name": "eve"}}
    await slack.ask("new customer Acme")
    text = (
        "<@UBOB> and <@UDANA> and <@UEVE> and <@UGONE>: pricing on "
        "<http://customer.io|customer.io>, see <#C9|deals> <!here> 3 &lt; 4 &amp; ok"
    )
    await slack.interact(shortcut("1700000000.000300", text, slack.fake.response_url()))
    view: dict[str, Any] = (await slack.fake.wait("views.open"))[-1].params["view"]
    notes = next(b for b in view["blocks"] if b.get("block_id") == "notes")
    plain = (
        "Bob and Dana Ruiz and eve and UGONE: pricing on customer.io, see #deals @here 3 < 4 & ok"
    )
    assert notes["element"]["initial_value"] == plain
    await submit(slack, view, state(1, notes["element"]["initial_value"], kind="chat"))
    await slack.fake.wait("response", 2)
    assert slack.testbot.query(select(Interaction.text)) == [plain]


async def test_command_mentions_still_work_for_link_and_remind(slack: SlackHarness) -> None:
    """`/crm remind @bob ...` arrives as `<@UBOB|robert>`; `/crm link @erin carol` keeps the id."""
    answer = await slack.ask("remind <@UBOB|robert> tomorrow 9:00 send the quote", user="admin")
    assert "Bob" in answer["text"], answer["text"]
    owners = slack.testbot.query(select(Reminder.owner_id))
    assert owners == [slack.testbot.users["bob"]]
    done = await slack.ask("link <@UERIN|erin> carol", user="admin")
    assert "carol" in done["text"]
    who = await slack.ask("whoami", user="UERIN")
    assert "Carol" in json.dumps(who)


async def test_names_that_slack_is_slow_to_give_stay_ids(slack: SlackHarness) -> None:
    """users.info takes 5 s: the modal still opens within the trigger's 3 s, with the id."""
    slack.fake.delays["users.info"] = 5
    sent = time.perf_counter()
    await slack.interact(
        shortcut("1700000000.000400", "ask <@USLOW> today", slack.fake.response_url())
    )
    opened = (await slack.fake.wait("views.open", timeout=8))[-1]
    assert opened.at - sent < 2.5
    notes = next(b for b in opened.params["view"]["blocks"] if b.get("block_id") == "notes")
    assert notes["element"]["initial_value"] == "ask USLOW today"
