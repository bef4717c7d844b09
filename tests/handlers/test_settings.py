"""settings, language, timezone, quiet (and digest for others): shown, changed, audited."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AuditEntry, SchedulePrefs, User
from crm_core.services import preferences
from handlers.dispatcher import LANG
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply
from tests.conftest import TestBot


def _user(testbot: TestBot, handle: str) -> User:
    (user,) = testbot.query(select(User).where(User.external_id == handle))
    return user


def _audits(testbot: TestBot, action: str) -> list[AuditEntry]:
    return testbot.query(select(AuditEntry).where(AuditEntry.action == action))


def test_settings_show_your_own(testbot: TestBot) -> None:
    """settings (设置) lists language, zone, digest and quiet hours, with language buttons."""
    reply = testbot("alice", "settings")
    assert reply.title == "Settings: Alice"
    fields = {f.label: f.value for f in reply.fields}
    assert fields["Language"] == "English"
    assert fields["Time zone"].startswith("UTC (")
    assert fields["Digest"] == "weekdays at 08:30"
    assert fields["Quiet hours"] == "none (working hours 08:00-19:00)"
    assert [b.payload["text"] for b in reply.buttons] == [
        "language zh-Hant",
        "language zh",
        "language auto",
    ]
    assert testbot("alice", "设置").title == "Settings: Alice"


def test_language_changes_the_replies_and_is_audited(testbot: TestBot) -> None:
    """language zh-Hant answers in Traditional from that reply on; audited before -> after."""
    done = testbot("alice", "language zh-TW")
    assert done.status == "ok" and done.text == "Alice 之後將收到繁體中文回覆。"
    assert _user(testbot, "alice").locale == "zh-Hant"
    assert testbot("alice", "customer Nowhere").text.startswith("在你的客戶中找不到")
    (entry,) = _audits(testbot, "user.language")
    assert entry.changes["locale"] == ["en", "zh-Hant"]
    card = testbot("alice", "設定")
    assert card.title == "設定：Alice"
    assert testbot("alice", "语言 英文").text == "Alice now gets replies in English."


def test_bad_language_is_refused_with_the_choices(testbot: TestBot) -> None:
    """An unknown language says which ones exist and changes nothing."""
    reply = testbot("alice", "language klingon")
    assert reply.status == "error"
    assert reply.text == '"klingon" is not a language I speak. Use one of: zh-Hant, zh, en, auto.'
    assert _user(testbot, "alice").locale == "en"
    assert _audits(testbot, "user.language") == []


def test_only_admins_change_someone_elses(testbot: TestBot) -> None:
    """A rep naming a colleague is refused (nothing written); an admin sets it, audited."""
    refused = testbot("alice", "language @carol zh")
    assert refused.status == "error" and "Only an admin" in refused.text
    assert testbot("bob", "timezone @alice Asia/Taipei").status == "error"
    assert _user(testbot, "carol").locale == "en"
    done = testbot("admin", "language @carol zh-Hant")
    assert done.text == "Carol now gets replies in 繁體中文."
    assert _user(testbot, "carol").locale == "zh-Hant"
    (entry,) = _audits(testbot, "user.language")
    assert entry.actor_id == testbot.users["admin"]
    assert testbot("admin", "settings @carol").title == "Settings: Carol"
    set_digest = testbot("admin", "digest @carol off")
    assert {f.label: f.value for f in set_digest.fields}["Digest"] == "off"
    (prefs,) = testbot.query(
        select(SchedulePrefs).where(SchedulePrefs.user_id == _user(testbot, "carol").id)
    )
    assert prefs.digest_off
    assert testbot("alice", "digest @carol on").status == "error"


def test_timezone_by_zone_city_or_chinese_city(testbot: TestBot) -> None:
    """Asia/Taipei, taipei and 台北 are one zone; a made-up zone is refused."""
    assert testbot("alice", "timezone taipei").status == "ok"
    assert _user(testbot, "alice").timezone == "Asia/Taipei"
    testbot("alice", "时区 纽约")
    assert _user(testbot, "alice").timezone == "America/New_York"
    testbot("alice", "tz Europe/Berlin")
    assert _user(testbot, "alice").timezone == "Europe/Berlin"
    bad = testbot("alice", "timezone Mars/Base")
    assert bad.status == "error" and "Europe/Berlin" in bad.text
    assert _user(testbot, "alice").timezone == "Europe/Berlin"
    assert len(_audits(testbot, "user.timezone")) == 3


def test_quiet_hours_set_show_and_clear(testbot: TestBot) -> None:
    """quiet 20:00-08:00 spans midnight; quiet off clears; nonsense is refused."""
    done = testbot("alice", "quiet 20:00-08:00")
    assert done.text.startswith("Quiet hours for Alice: 20:00–08:00 (UTC)")
    (prefs,) = testbot.query(select(SchedulePrefs))
    assert (prefs.quiet_start, prefs.quiet_end) == (20 * 60, 8 * 60)
    assert {f.label: f.value for f in testbot("alice", "settings").fields}["Quiet hours"] == (
        "20:00–08:00"
    )
    for bad in ("quiet 25:00-08:00", "quiet soon", "quiet 8-8"):
        reply = testbot("alice", bad)
        assert reply.status == "error" and "quiet 20:00-08:00" in reply.text, bad
    assert testbot("alice", "免打扰 关闭").status == "ok"
    (prefs,) = testbot.query(select(SchedulePrefs))
    assert (prefs.quiet_start, prefs.quiet_end) == (None, None)
    assert len(_audits(testbot, "quiet.settings")) == 2


def test_auto_answers_in_the_language_of_each_message(testbot: TestBot) -> None:
    """language auto: Simplified, Traditional or English by the message; buttons keep it."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "language auto").status == "ok"
    assert _user(testbot, "alice").locale_auto
    assert testbot("alice", "客户 没有这家").text.startswith("在你的客户中找不到")
    assert testbot("alice", "客戶 沒有這家").text.startswith("在你的客戶中找不到")
    assert testbot("alice", "customer Nowhere").text.startswith("I can't find")
    card = testbot("alice", "客戶 Acme")
    assert card.buttons and all(b.payload[LANG] == "zh-Hant" for b in card.buttons)
    # The button's command is English (`ask #1`); its answer keeps the card's language.
    assert card.buttons[0].payload["text"] == "ask #1"
    pressed = testbot.press("alice", card.buttons[0])
    assert pressed.text.startswith("想了解Acme的什麼？")
    # No words to tell by (a lone number): the language set before `auto`.
    assert testbot("alice", "42").text.startswith("There is no button 42")


def test_buttons_of_a_command_that_turns_auto_on_or_off_follow_the_new_setting(
    testbot: TestBot,
) -> None:
    """The buttons of the reply are stamped with its language by the setting the command left,
    not the one it found (a verb of this test's own: `language` answers with no button)."""

    def switch(req: Request) -> Reply:
        preferences.set_language(req.ctx, req.ctx.actor, req.args.strip())
        return Reply(text="switched", buttons=[Button.run("Settings", "settings")])

    testbot.dispatcher.registry.add(Verb("switch language", switch, (), (), True))
    on = testbot("alice", "switch language auto")
    assert on.status == "ok" and on.buttons[0].payload[LANG] == "en"
    off = testbot("alice", "switch language en")
    assert off.status == "ok" and LANG not in off.buttons[0].payload
