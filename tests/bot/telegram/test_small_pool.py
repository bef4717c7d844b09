"""Telegram on a pool of one connection: no update holds one while it waits for another."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from crm_core.db import make_engine
from tests.bot.telegram.conftest import TG, Chat, buttons
from tests.bot.telegram.fake_api import FakeBotApi, parse_html
from tests.conftest import BACKENDS, TestBot, _truncate

ALICE = TG["alice"]


def _one_connection(engine: Engine) -> Engine:
    """The engine with a pool of one connection and no overflow, waiting 2 s for it."""
    pool = engine.pool
    engine.pool = QueuePool(
        pool._creator,
        pool_size=1,
        max_overflow=0,
        timeout=2,
        pre_ping=pool._pre_ping,
        dialect=pool._dialect,
        _dispatch=pool.dispatch,
    )
    pool.dispose()
    return engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The test database (as tests.conftest's), on a pool of one connection."""
    if request.param == "sqlite":
        path = tmp_path / "crmbot.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = _one_connection(make_engine(f"sqlite:///{path}"))
        yield eng
        eng.dispose()
        return
    shared: Engine = request.getfixturevalue("pg_engine")
    eng = _one_connection(make_engine(shared.url.render_as_string(hide_password=False)))
    _truncate(eng)
    yield eng
    _truncate(eng)
    eng.dispose()


async def _next(api: FakeBotApi, before: int) -> str:
    calls = await api.wait_for("sendMessage", before + 1, chat_id=ALICE)
    return parse_html(str(calls[before].params["text"]))[0]


async def _say(tg: Chat, api: FakeBotApi, text: str) -> str:
    before = len(api.sent(ALICE))
    await tg.say(ALICE, text)
    return await _next(api, before)


async def _press(tg: Chat, api: FakeBotApi, label: str) -> str:
    keyboard = buttons(api.sent(ALICE)[-1])
    before = len(api.sent(ALICE))
    await tg.press(ALICE, keyboard[label])
    return await _next(api, before)


async def test_a_button_press_runs_on_a_pool_of_one(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """A button redeems its token after the sender's look-up: the look-up gave its back."""
    testbot("alice", "new customer Acme Logistics")
    assert "Logged the visit" in await _say(tg, fake_api, "log visit Acme: liked the demo")
    assert "Acme Logistics" in await _press(tg, fake_api, "Open")


async def test_a_form_step_runs_on_a_pool_of_one(
    tg: Chat, fake_api: FakeBotApi, testbot: TestBot
) -> None:
    """A typed step of a form and a Keep button: each claims its update after the look-up."""
    testbot("alice", "new customer Acme industry retail")
    assert "Name? Type it." in await _say(tg, fake_api, "/edit_customer Acme")
    assert "Industry?" in await _press(tg, fake_api, "Keep: Acme")
    assert "City?" in await _say(tg, fake_api, "logistics")
