"""Personal API tokens: the CLI, hashed storage, audit, scopes, revocation, rate limits, logs."""

from __future__ import annotations

import getpass
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.api.ratelimit import RateLimiter
from bot.cli import main
from crm_core.db import make_engine, make_session_factory, unit_of_work
from crm_core.models import ApiToken, AuditEntry, User
from crm_core.services.api_tokens import authenticate, token_hash
from crm_core.settings import Settings
from tests.bot.api.conftest import ApiServer

TOKEN = re.compile(r"^crm_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI over an upgraded SQLite database in an empty folder, with alice and bob."""
    for name in Settings.model_fields:
        monkeypatch.delenv(Settings.env_name(name), raising=False)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert invoke(runner, "db", "upgrade").exit_code == 0
    for handle in ("alice", "bob"):
        assert invoke(runner, "user", "add", handle, "--name", handle.title()).exit_code == 0
    return runner


def invoke(runner: CliRunner, *args: str) -> Result:
    """Run `crmbot ARGS`."""
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_token_cli_creates_lists_and_revokes_and_stores_only_a_hash(
    cli: CliRunner, tmp_path: Path
) -> None:
    """create prints the token alone on line one; the database and audit never hold it."""
    made = invoke(cli, "token", "create", "--as", "alice", "--scope", "write")
    assert made.exit_code == 0, made.output
    token = made.output.splitlines()[0]
    assert TOKEN.match(token)
    read_only = invoke(cli, "token", "create", "--as", "bob").output.splitlines()[0]

    listed = invoke(cli, "token", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert len(lines) == 2 and "@alice" in lines[0] and "write" in lines[0] and "active" in lines[0]
    assert "@bob" in lines[1] and "read" in lines[1]
    assert token not in listed.output and read_only not in listed.output
    assert token[:10] in lines[0]
    only_bob = invoke(cli, "token", "list", "--as", "bob").output
    assert "@alice" not in only_bob and "@bob" in only_bob

    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'crmbot.sqlite'}"))
    with unit_of_work(factory) as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        assert [r.token_hash for r in rows] == [token_hash(token), token_hash(read_only)]
        assert authenticate(session, token, now=rows[0].created_at) is not None

    revoked = invoke(cli, "token", "revoke", "1")
    assert revoked.exit_code == 0 and "@alice" in revoked.output
    assert "revoked" in invoke(cli, "token", "list", "--as", "alice").output
    again = invoke(cli, "token", "revoke", "1")
    assert again.exit_code != 0 and "already revoked" in again.output
    missing = invoke(cli, "token", "revoke", "99")
    assert missing.exit_code != 0 and "token list" in missing.output
    nobody = invoke(cli, "token", "create", "--as", "zed")
    assert nobody.exit_code != 0 and not TOKEN.match(nobody.output.splitlines()[0])
    assert invoke(cli, "token", "create", "--as", "alice", "--scope", "admin").exit_code != 0

    with unit_of_work(factory) as session:
        assert authenticate(session, token, now=rows[0].created_at) is None
        entries = session.execute(
            select(
                AuditEntry.action, AuditEntry.actor_id, AuditEntry.actor_label, AuditEntry.changes
            )
            .where(AuditEntry.entity_type == "api_tokens")
            .order_by(AuditEntry.id)
        ).all()
    # The CLI operator did each, not the token's user (who is in the changes).
    operator = f"cli:{getpass.getuser()}"
    assert [(a, actor, label) for a, actor, label, _ in entries] == [
        ("api_token.create", None, operator),
        ("api_token.create", None, operator),
        ("api_token.revoke", None, operator),
    ]
    assert entries[0][3]["user_id"][1] == rows[0].user_id
    logged = repr([changes for *_, changes in entries])
    assert token not in logged and token_hash(token) not in logged


def test_scopes_revocation_and_the_error_shape(api: ApiServer) -> None:
    """A read token reads but may not write (403); a revoked or unknown token gets 401."""
    reader = api.token("alice", scope="read")
    writer = api.token("alice", scope="write")
    assert api.call("GET", "/customers", reader).status_code == 200
    refused = api.call("POST", "/customers", reader, {"name": "Acme"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "--scope write" in refused.json()["error"]["message"]
    assert api.call("POST", "/customers", writer, {"name": "Acme"}).status_code == 201

    for bad in (None, "crm_nope", writer + "x", "Basic " + writer):
        answer = api.call("GET", "/customers", bad)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"] == "Bearer"

    with unit_of_work(api.testbot.session_factory) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(writer)))
        assert row is not None and row.last_used_at is not None
        from crm_core.services.api_tokens import revoke_token

        revoke_token(session, row.id, now=api.testbot.dispatcher.clock())
    answer = api.call("GET", "/customers", writer)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
    # A user made inactive can no longer act through any of their tokens.
    assert api.call("GET", "/customers", reader).status_code == 200
    with unit_of_work(api.testbot.session_factory) as session:
        alice = session.get(User, api.testbot.users["alice"])
        assert alice is not None
        alice.active = False
    assert api.call("GET", "/customers", reader).status_code == 401


@pytest.mark.parametrize("rate_per_minute", [3])
def test_each_token_is_rate_limited_on_its_own(api: ApiServer) -> None:
    """Past the burst a token gets 429 with Retry-After; another token is unaffected."""
    first, second = api.token("alice"), api.token("bob")
    statuses = [api.call("GET", "/customers", first).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = api.call("GET", "/customers", first)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert api.call("GET", "/customers", second).status_code == 200


def test_rate_limiter_refills_with_time() -> None:
    """The bucket refills at the rate: one call per second at 60 a minute."""
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take(1) == 0 for _ in range(60))
    wait = limiter.take(1)
    assert 0 < wait <= 1.0
    now[0] += 1.0
    assert limiter.take(1) == 0
    assert limiter.take(2) == 0


def test_no_token_reaches_a_log(api: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    """Good, bad, revoked and read-only tokens, failures included: none appears in any log."""
    caplog.set_level(logging.DEBUG)
    good = api.token("alice")
    reader = api.token("bob", scope="read")
    used = [good, reader, good + "x", "crm_" + "A" * 43]
    for token in used:
        api.call("GET", "/customers", token)
        api.call("POST", "/customers", token, {"name": "Acme", "force": True})
        api.call("GET", "/customers/999", token)
        api.call("POST", "/customers", token, b"not json".decode())
        api.call("GET", "/no/such/path", token)
    with unit_of_work(api.testbot.session_factory) as session:
        from crm_core.services.api_tokens import revoke_token

        revoke_token(session, 1, now=api.testbot.dispatcher.clock())
    api.call("GET", "/customers", good)
    assert caplog.records, "the server logged nothing at DEBUG: the check would prove nothing"
    text = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    for token in used:
        assert token not in text
        assert token[4:20] not in text
