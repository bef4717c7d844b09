"""`crmbot report NAME [--by DIM] [--from] [--to] --as HANDLE --json`: the scripts' contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.bot.test_cli import _settings_env, invoke
from tests.crm_core.test_analytics import book


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, SQLite, and no stray settings (as in test_cli)."""
    for name in _settings_env():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(data_dir: Path) -> CliRunner:
    """A runner over the data directory."""
    return CliRunner()


def _loaded(cli: CliRunner, data_dir: Path) -> CliRunner:
    assert invoke(cli, "db", "upgrade").exit_code == 0
    path = data_dir / "book.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in book()) + "\n", "utf-8")
    result = invoke(cli, "import", str(path))
    assert result.exit_code == 0, result.output
    return cli


NO_QUOTA = {"quota": None, "attainment": None}


def report(cli: CliRunner, *args: str) -> dict[str, object]:
    """Run a report and parse its JSON."""
    result = invoke(cli, "report", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_win_rate_json_has_the_documented_shape(cli: CliRunner, data_dir: Path) -> None:
    _loaded(cli, data_dir)
    data = report(
        cli,
        "win-rate",
        "--by",
        "region",
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-31",
        "--as",
        "admin",
    )
    assert data == {
        "report": "win-rate",
        "currency": "USD",
        "rows": [
            {"group": "North", "won": 2, "lost": 1, "win_rate": 0.6667, "won_value": 5000}
            | NO_QUOTA,
            {"group": "South", "won": 1, "lost": 1, "win_rate": 0.5, "won_value": 5000} | NO_QUOTA,
        ],
        "total": {"won": 3, "lost": 2, "win_rate": 0.6, "won_value": 10000} | NO_QUOTA,
        "period": {"from": "2026-10-01", "to": "2026-12-31"},
        "other_currencies": {"EUR": 1},
    }
    mine = report(cli, "win-rate", "--as", "alice")
    assert mine["total"] == {"won": 2, "lost": 1, "win_rate": 0.6667, "won_value": 3000} | NO_QUOTA


def test_funnel_cycle_forecast_and_activity_json(cli: CliRunner, data_dir: Path) -> None:
    _loaded(cli, data_dir)
    funnel = report(cli, "funnel", "--as", "admin")
    rows = funnel["rows"]
    assert isinstance(rows, list)
    assert [(r["group"], r["reached"], r["advanced"], r["conversion"]) for r in rows] == [
        ("lead", 12, 10, 0.8333),
        ("qualified", 10, 7, 0.7),
        ("proposal", 7, 5, 0.7143),
        ("negotiation", 5, 4, 0.8),
        ("won", 4, None, None),
    ]
    cycle = report(cli, "cycle", "--by", "rep", "--as", "bob")
    assert cycle["total"] == {
        "won": 3,
        "lost": 2,
        # Won in 10, 4 and 30 days; lost in 20 and 31.
        "won_days_mean": 14.7,
        "won_days_median": 10,
        "lost_days_mean": 25.5,
        "lost_days_median": 25.5,
    }
    forecast = report(
        cli, "forecast", "--from", "2027-01-01", "--to", "2027-03-31", "--as", "admin"
    )
    assert [r["group"] for r in forecast["rows"]] == ["2027-01", "2027-02", "2027-03"]  # type: ignore[union-attr]
    assert set(forecast["total"]) == {  # type: ignore[arg-type]
        "open",
        "amount",
        "weighted",
        "closed",
        "commit",
        "best_case",
        "pipeline",
    }
    act = report(cli, "activity", "--from", "2026-11-17", "--to", "2026-11-23", "--as", "admin")
    assert act["total"]["call"] == 2  # type: ignore[index]


def test_bad_report_arguments_exit_with_usage(cli: CliRunner, data_dir: Path) -> None:
    _loaded(cli, data_dir)
    assert invoke(cli, "report", "funnel", "--by", "team", "--as", "admin").exit_code == 2
    assert invoke(cli, "report", "wins", "--as", "admin").exit_code == 2
    bad = invoke(
        cli, "report", "win-rate", "--from", "2026-12-01", "--to", "2026-01-01", "--as", "admin"
    )
    assert bad.exit_code == 2 and "wrong way round" in bad.output


DESK = [
    {"type": "team", "external_id": "east", "name": "East"},
    {"type": "team", "external_id": "west", "name": "West"},
    {"type": "user", "external_id": "alice", "name": "Alice", "team": "east"},
    {"type": "user", "external_id": "bob", "name": "Bob", "role": "manager", "team": "east"},
    {"type": "user", "external_id": "dave", "name": "Dave", "team": "west"},
    {"type": "customer", "external_id": "acme", "name": "Acme", "owner": "alice"},
    # High, answered in 1 business hour and resolved in 6: both targets met.
    {
        "type": "ticket",
        "external_id": "t1",
        "customer": "acme",
        "subject": "Printer jams",
        "priority": "high",
        "status": "resolved",
        "assignee": "alice",
        "team": "east",
        "created_at": "2026-11-23T09:00:00+00:00",
        "first_response_at": "2026-11-23T10:00:00+00:00",
        "resolved_at": "2026-11-23T15:00:00+00:00",
    },
    {
        "type": "ticket",
        "external_id": "t2",
        "customer": "acme",
        "subject": "Invoices missing",
        "priority": "urgent",
        "status": "new",
        "team": "east",
        "created_at": "2026-11-24T09:00:00+00:00",
    },
    *[
        {
            "type": "ticket_event",
            "external_id": ext,
            "ticket": tk,
            "kind": kind,
            "at": at,
            "status": status,
            "actor": "alice",
        }
        for ext, tk, kind, at, status in (
            ("e1", "t1", "created", "2026-11-23T09:00:00+00:00", "new"),
            ("e2", "t1", "reply", "2026-11-23T10:00:00+00:00", "open"),
            ("e3", "t1", "resolve", "2026-11-23T15:00:00+00:00", "resolved"),
            ("e4", "t2", "created", "2026-11-24T09:00:00+00:00", "new"),
        )
    ],
    {
        "type": "feedback",
        "external_id": "f1",
        "customer": "acme",
        "ticket": "t1",
        "kind": "csat",
        "score": 5,
        "created_at": "2026-11-24T10:00:00+00:00",
    },
    {
        "type": "feedback",
        "external_id": "f2",
        "customer": "acme",
        "kind": "nps",
        "score": 9,
        "created_at": "2026-11-24T10:00:00+00:00",
    },
    {
        "type": "feedback",
        "external_id": "f3",
        "customer": "acme",
        "kind": "nps",
        "score": 3,
        "created_at": "2026-11-25T10:00:00+00:00",
    },
]


def test_tickets_json_has_the_issues_shape(cli: CliRunner, data_dir: Path) -> None:
    assert invoke(cli, "db", "upgrade").exit_code == 0
    path = data_dir / "desk.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in DESK) + "\n", "utf-8")
    assert invoke(cli, "import", str(path)).exit_code == 0
    data = report(cli, "tickets", "--by", "priority", "--as", "bob")
    assert data == {
        "report": "tickets",
        "rows": [
            {
                "group": "urgent",
                "opened": 1,
                "resolved": 0,
                "first_response_met": 0,
                "resolution_met": 0,
                "breached": 1,
                "csat_mean": None,
                "nps": None,
            },
            {
                "group": "high",
                "opened": 1,
                "resolved": 1,
                "first_response_met": 1,
                "resolution_met": 1,
                "breached": 0,
                "csat_mean": 5.0,
                "nps": None,
            },
        ],
        "total": {
            "opened": 2,
            "resolved": 1,
            "first_response_met": 1,
            "resolution_met": 1,
            "breached": 1,
            "csat_mean": 5.0,
            "nps": 0,
        },
        # The NPS answers with no ticket: no priority, so the "no ticket" line (the rows and
        # it add up to the total).
        "no_ticket": {
            "opened": 0,
            "resolved": 0,
            "first_response_met": 0,
            "resolution_met": 0,
            "breached": 0,
            "csat_mean": None,
            "nps": 0,
        },
    }
    late = report(cli, "tickets", "--from", "2026-11-24", "--to", "2026-11-30", "--as", "alice")
    assert (late["total"]["opened"], late["total"]["resolved"]) == (1, 0)  # type: ignore[index]
    assert report(cli, "tickets", "--as", "dave")["total"]["opened"] == 0  # type: ignore[index]
    refused = invoke(cli, "report", "tickets", "--by", "region", "--as", "bob")
    assert refused.exit_code != 0 and "assignee, team or priority" in refused.output


def test_json_does_not_follow_the_language(cli: CliRunner, data_dir: Path) -> None:
    """A report's JSON is the same figures whatever language its reader chose (issue 17)."""
    _loaded(cli, data_dir)
    args = ("forecast", "--from", "2026-10-01", "--to", "2026-12-31", "--as", "admin")
    before = report(cli, *args)
    changed = invoke(cli, "run", "--as", "admin", "language zh-Hant")
    assert changed.exit_code == 0, changed.output
    assert "繁體中文" in changed.output
    assert report(cli, *args) == before
