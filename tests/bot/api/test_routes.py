"""Every REST route as a rep, a manager and an admin: the chat verbs' access rules and audit."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Interaction, StageChange
from tests.bot.api.conftest import ApiServer


def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response that must have `status`."""
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int, code: str) -> str:
    """The message of an error response in the one documented shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return str(body["error"]["message"])


@pytest.fixture
def book(api: ApiServer) -> dict[str, Any]:
    """Tokens for everyone; alice's customer Acme and dave's (West) customer Westco."""
    tokens = {who: api.token(who) for who in ("alice", "carol", "bob", "dave", "admin")}
    acme = ok(
        api.call("POST", "/customers", tokens["alice"], {"name": "Acme", "city": "Berlin"}), 201
    )
    westco = ok(api.call("POST", "/customers", tokens["dave"], {"name": "Westco"}), 201)
    return {"tokens": tokens, "acme": acme, "westco": westco}


def _same_refusal(api: ApiServer, token: str, path: str, hidden: int, missing: int) -> None:
    """Another book's record answers exactly like a record that does not exist."""
    theirs = api.call("GET", path.format(hidden), token)
    nothing = api.call("GET", path.format(missing), token)
    assert theirs.status_code == nothing.status_code == 404
    assert re.sub(r"\d+", "N", theirs.text) == re.sub(r"\d+", "N", nothing.text)


def test_customers_for_a_rep_a_manager_and_an_admin(api: ApiServer, book: dict[str, Any]) -> None:
    """Lists, reads and writes follow the book: own for a rep, the team's for a manager, all."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    assert acme["owner"] == "alice" and acme["city"] == "Berlin" and acme["archived"] is False

    def names(who: str, **params: Any) -> list[str]:
        page = ok(api.call("GET", "/customers", t[who], params=params))
        return [c["name"] for c in page["items"]]

    assert names("alice") == ["Acme"]
    assert names("carol") == []
    assert names("bob") == ["Acme"]
    assert names("dave") == ["Westco"]
    assert names("admin") == ["Acme", "Westco"]
    assert names("admin", q="west") == ["Westco"]
    assert names("admin", owner="alice") == ["Acme"]
    assert names("admin", city="berlin") == ["Acme"]

    assert ok(api.call("GET", f"/customers/{acme['id']}", t["bob"]))["name"] == "Acme"
    _same_refusal(api, t["alice"], "/customers/{}", westco["id"], 999_999)
    _same_refusal(api, t["bob"], "/customers/{}", westco["id"], 999_999)

    changed = ok(api.call("PATCH", f"/customers/{acme['id']}", t["alice"], {"tags": ["vip"]}))
    assert changed["tags"] == ["vip"]
    refused(
        api.call("PATCH", f"/customers/{westco['id']}", t["alice"], {"city": "X"}), 404, "not_found"
    )
    assert (
        ok(api.call("PATCH", f"/customers/{westco['id']}", t["admin"], {"city": "Lyon"}))["city"]
        == "Lyon"
    )
    # null clears a detail, as an empty value does in chat.
    assert (
        ok(api.call("PATCH", f"/customers/{westco['id']}", t["admin"], {"city": None}))["city"]
        is None
    )
    # A rep cannot give a customer to someone else; a manager can, within the team.
    refused(
        api.call("POST", "/customers", t["alice"], {"name": "Globex", "owner": "carol"}),
        403,
        "forbidden",
    )
    assert (
        ok(api.call("POST", "/customers", t["bob"], {"name": "Globex", "owner": "carol"}), 201)[
            "owner"
        ]
        == "carol"
    )
    refused(api.call("POST", "/customers", t["bob"], {"name": "Acme"}), 422, "invalid")
    refused(
        api.call("POST", "/customers", t["bob"], {"name": "Initech", "owner": "nobody"}),
        422,
        "invalid",
    )

    actions = api.testbot.rows(
        select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.entity_type == "customers")
    )
    users = api.testbot.users
    assert ("customer.create", users["alice"]) in actions
    assert ("customer.update", users["alice"]) in actions
    assert ("customer.update", users["admin"]) in actions


def test_contacts_for_each_role(api: ApiServer, book: dict[str, Any]) -> None:
    """Contacts: add on a customer in one's book, list by customer, read, change."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    dana = ok(
        api.call(
            "POST",
            "/contacts",
            t["alice"],
            {
                "customer_id": acme["id"],
                "name": "Dana Ruiz",
                "email": "dana@acme.example",
                "birthday": "1984-05-03",
            },
        ),
        201,
    )
    assert dana["birthday"] == "1984-05-03"
    refused(
        api.call("POST", "/contacts", t["alice"], {"customer_id": westco["id"], "name": "Eve"}),
        404,
        "not_found",
    )
    refused(
        api.call("POST", "/contacts", t["alice"], {"customer_id": acme["id"], "name": "Dana Ruiz"}),
        422,
        "invalid",
    )
    refused(
        api.call(
            "POST",
            "/contacts",
            t["alice"],
            {"customer_id": acme["id"], "name": "Ed", "email": "nope"},
        ),
        422,
        "invalid",
    )
    wes = ok(
        api.call("POST", "/contacts", t["admin"], {"customer_id": westco["id"], "name": "Wes"}), 201
    )

    def names(who: str, **params: Any) -> list[str]:
        return [c["name"] for c in ok(api.call("GET", "/contacts", t[who], params=params))["items"]]

    assert names("alice") == ["Dana Ruiz"]
    assert names("bob") == ["Dana Ruiz"]
    assert names("admin") == ["Dana Ruiz", "Wes"]
    assert names("admin", customer_id=westco["id"]) == ["Wes"]
    assert names("admin", q="dana") == ["Dana Ruiz"]
    _same_refusal(api, t["alice"], "/contacts/{}", wes["id"], 999_999)
    assert ok(api.call("GET", f"/contacts/{dana['id']}", t["bob"]))["email"] == "dana@acme.example"
    changed = ok(
        api.call("PATCH", f"/contacts/{dana['id']}", t["bob"], {"title": "CFO", "phone": None})
    )
    assert changed["title"] == "CFO"
    refused(
        api.call("PATCH", f"/contacts/{wes['id']}", t["dave"], {"birthday": "Feb 30"}),
        422,
        "invalid",
    )
    refused(
        api.call("PATCH", f"/contacts/{wes['id']}", t["alice"], {"title": "x"}), 404, "not_found"
    )


def test_deals_and_stage_moves_for_each_role(api: ApiServer, book: dict[str, Any]) -> None:
    """Deals: open, list by stage, change, move with history; a rep cannot reopen a won deal."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    deal = ok(
        api.call(
            "POST",
            "/deals",
            t["alice"],
            {
                "customer_id": acme["id"],
                "title": "Pilot",
                "amount": 1200.5,
                "currency": "eur",
                "expected_close": "2026-12-20",
            },
        ),
        201,
    )
    assert (deal["amount"], deal["currency"], deal["stage"]) == ("1200.50", "EUR", "lead")
    west = ok(
        api.call("POST", "/deals", t["dave"], {"customer_id": westco["id"], "title": "Fleet"}), 201
    )
    refused(
        api.call(
            "POST", "/deals", t["alice"], {"customer_id": acme["id"], "title": "X", "amount": "-3"}
        ),
        422,
        "invalid",
    )
    refused(
        api.call(
            "POST",
            "/deals",
            t["alice"],
            {"customer_id": acme["id"], "title": "X", "stage": "nowhere"},
        ),
        422,
        "invalid",
    )

    def titles(who: str, **params: Any) -> list[str]:
        return [d["title"] for d in ok(api.call("GET", "/deals", t[who], params=params))["items"]]

    assert titles("alice") == ["Pilot"]
    assert titles("bob") == ["Pilot"]
    assert titles("admin") == ["Pilot", "Fleet"]
    assert titles("admin", owner="dave") == ["Fleet"]
    _same_refusal(api, t["alice"], "/deals/{}", west["id"], 999_999)

    changed = ok(
        api.call("PATCH", f"/deals/{deal['id']}", t["alice"], {"amount": None, "title": "Pilot 2"})
    )
    assert (changed["amount"], changed["title"]) == (None, "Pilot 2")
    moved = ok(api.call("POST", f"/deals/{deal['id']}/stage", t["alice"], {"stage": "proposal"}))
    assert moved["stage"] == "proposal"
    refused(
        api.call("POST", f"/deals/{deal['id']}/stage", t["alice"], {"stage": "lost"}),
        422,
        "invalid",
    )
    assert ok(api.call("POST", f"/deals/{deal['id']}/stage", t["alice"], {"stage": "won"}))[
        "closed_at"
    ]
    assert titles("admin", stage="won") == ["Pilot 2"]
    assert titles("admin", open="true") == ["Fleet"]
    refused(
        api.call("POST", f"/deals/{deal['id']}/stage", t["alice"], {"stage": "lead"}),
        403,
        "forbidden",
    )
    assert (
        ok(api.call("POST", f"/deals/{deal['id']}/stage", t["bob"], {"stage": "lead"}))["closed_at"]
        is None
    )
    refused(
        api.call("POST", f"/deals/{west['id']}/stage", t["bob"], {"stage": "won"}), 404, "not_found"
    )
    ok(
        api.call(
            "POST", f"/deals/{west['id']}/stage", t["admin"], {"stage": "lost", "reason": "budget"}
        )
    )
    history = api.testbot.query(
        select(StageChange.to_stage)
        .where(StageChange.deal_id == deal["id"])
        .order_by(StageChange.id)
    )
    assert history == ["lead", "proposal", "won", "lead"]
    moves = api.testbot.query(select(AuditEntry.actor_id).where(AuditEntry.action == "deal.move"))
    users = api.testbot.users
    assert moves == [users["alice"], users["alice"], users["bob"], users["admin"]]


def test_interactions_for_each_role(api: ApiServer, book: dict[str, Any]) -> None:
    """Notes: log (once per idempotency key), list, read, edit (a rep only their own)."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    body = {
        "customer_id": acme["id"],
        "kind": "call",
        "text": "Asked for a quote",
        "idempotency_key": "crm-1",
    }
    note = ok(api.call("POST", "/interactions", t["alice"], body), 201)
    again = ok(api.call("POST", "/interactions", t["alice"], body), 200)
    assert again["id"] == note["id"] and api.testbot.count(Interaction) == 1
    bobs = ok(
        api.call(
            "POST",
            "/interactions",
            t["bob"],
            {
                "customer_id": acme["id"],
                "kind": "visit",
                "text": "Site tour",
                "occurred_at": "2026-11-20T10:00:00+01:00",
            },
        ),
        201,
    )
    assert bobs["occurred_at"] == "2026-11-20T09:00:00Z" and bobs["source"] == "api"
    wnote = ok(
        api.call(
            "POST",
            "/interactions",
            t["dave"],
            {"customer_id": westco["id"], "kind": "note", "text": "West note"},
        ),
        201,
    )
    refused(
        api.call(
            "POST",
            "/interactions",
            t["alice"],
            {"customer_id": acme["id"], "kind": "fax", "text": "x"},
        ),
        422,
        "invalid",
    )
    refused(
        api.call(
            "POST",
            "/interactions",
            t["alice"],
            {
                "customer_id": acme["id"],
                "kind": "call",
                "text": "x",
                "occurred_at": "2030-01-01T00:00:00Z",
            },
        ),
        422,
        "invalid",
    )

    def texts(who: str, **params: Any) -> list[str]:
        return [
            n["text"] for n in ok(api.call("GET", "/interactions", t[who], params=params))["items"]
        ]

    assert texts("alice") == ["Asked for a quote", "Site tour"]
    assert texts("alice", kind="visit") == ["Site tour"]
    assert texts("admin", customer_id=westco["id"]) == ["West note"]
    _same_refusal(api, t["alice"], "/interactions/{}", wnote["id"], 999_999)
    # A rep edits only what they wrote; their manager may edit it.
    refused(
        api.call("PATCH", f"/interactions/{bobs['id']}", t["alice"], {"text": "Mine now"}),
        403,
        "forbidden",
    )
    assert (
        ok(api.call("PATCH", f"/interactions/{note['id']}", t["bob"], {"text": "Quote sent"}))[
            "text"
        ]
        == "Quote sent"
    )
    assert ok(api.call("GET", f"/interactions/{note['id']}", t["admin"]))["text"] == "Quote sent"
    actions = api.testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "interactions")
    )
    assert sorted(actions) == ["interaction.create"] * 3 + ["interaction.update"]


def test_reminders_for_each_role(api: ApiServer, book: dict[str, Any]) -> None:
    """Reminders: a rep reminds themself, a manager their team; done, snooze, cancel."""
    t, acme = book["tokens"], book["acme"]
    mine = ok(
        api.call(
            "POST",
            "/reminders",
            t["alice"],
            {"text": "Call Dana", "due_at": "2026-11-24T09:00:00Z", "customer_id": acme["id"]},
        ),
        201,
    )
    assert (mine["owner"], mine["status"]) == ("alice", "pending")
    refused(
        api.call(
            "POST",
            "/reminders",
            t["alice"],
            {"text": "Nag", "due_at": "2026-11-24T09:00:00Z", "owner": "carol"},
        ),
        403,
        "forbidden",
    )
    refused(
        api.call(
            "POST", "/reminders", t["alice"], {"text": "Late", "due_at": "2026-11-01T09:00:00Z"}
        ),
        422,
        "invalid",
    )
    refused(
        api.call("POST", "/reminders", t["alice"], {"text": "Tz", "due_at": "2026-11-24T09:00:00"}),
        422,
        "invalid",
    )
    for_carol = ok(
        api.call(
            "POST",
            "/reminders",
            t["bob"],
            {"text": "Review pipeline", "due_at": "2026-11-25T09:00:00Z", "owner": "carol"},
        ),
        201,
    )
    west = ok(
        api.call(
            "POST",
            "/reminders",
            t["admin"],
            {"text": "West check", "due_at": "2026-11-25T09:00:00Z", "owner": "dave"},
        ),
        201,
    )

    def texts(who: str, **params: Any) -> list[str]:
        return [
            r["text"] for r in ok(api.call("GET", "/reminders", t[who], params=params))["items"]
        ]

    assert texts("alice") == ["Call Dana"]
    assert texts("carol") == ["Review pipeline"]
    assert texts("bob") == ["Call Dana", "Review pipeline"]
    assert texts("admin") == ["Call Dana", "Review pipeline", "West check"]
    assert texts("admin", owner="dave") == ["West check"]
    _same_refusal(api, t["alice"], "/reminders/{}", west["id"], 999_999)
    snoozed = ok(
        api.call(
            "PATCH", f"/reminders/{mine['id']}", t["alice"], {"due_at": "2026-11-26T08:00:00+01:00"}
        )
    )
    assert snoozed["due_at"] == "2026-11-26T07:00:00Z"
    assert (
        ok(api.call("PATCH", f"/reminders/{mine['id']}", t["alice"], {"status": "done"}))["status"]
        == "done"
    )
    assert (
        ok(api.call("PATCH", f"/reminders/{for_carol['id']}", t["bob"], {"status": "cancelled"}))[
            "status"
        ]
        == "cancelled"
    )
    refused(
        api.call("PATCH", f"/reminders/{west['id']}", t["bob"], {"status": "done"}),
        404,
        "not_found",
    )
    refused(api.call("PATCH", f"/reminders/{west['id']}", t["admin"], {}), 422, "invalid")
    assert texts("admin", status="pending") == ["West check"]


def test_cursor_paging_visits_every_record_once(api: ApiServer, book: dict[str, Any]) -> None:
    """Following `next` walks the whole list; a forged cursor or a bad limit is refused."""
    token = book["tokens"]["admin"]
    for n in range(7):
        ok(
            api.call("POST", "/customers", token, {"name": f"Paged {n} Holdings", "force": True}),
            201,
        )
    seen: list[int] = []
    cursor = None
    while True:
        page = ok(
            api.call(
                "GET",
                "/customers",
                token,
                params={"limit": 3, **({"cursor": cursor} if cursor else {})},
            )
        )
        assert len(page["items"]) <= 3
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    refused(api.call("GET", "/customers", token, params={"cursor": "bm9wZQ"}), 422, "invalid")
    refused(api.call("GET", "/customers", token, params={"limit": 0}), 422, "invalid")
    refused(api.call("GET", "/customers", token, params={"limit": 201}), 422, "invalid")
    refused(api.call("GET", "/deals", token, params={"open": "maybe"}), 422, "invalid")


def test_routing_and_body_refusals_use_the_error_shape(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """Unknown paths, wrong methods, bodies that are not JSON objects, unknown fields."""
    token = book["tokens"]["alice"]
    refused(api.call("GET", "/nothing-here", token), 404, "not_found")
    refused(api.call("GET", "/customers/abc", token), 404, "not_found")
    refused(api.call("GET", "/customers/99999999999999999999", token), 404, "not_found")
    refused(
        api.call("DELETE", f"/customers/{book['acme']['id']}", token), 405, "method_not_allowed"
    )
    raw = api.client.post(
        f"{api.url}/api/v1/customers",
        headers={"Authorization": f"Bearer {token}"},
        content=b"{not json",
    )
    refused(raw, 422, "invalid")
    refused(api.call("POST", "/customers", token, ["Acme"]), 422, "invalid")
    message = refused(
        api.call("POST", "/customers", token, {"name": "Q", "colour": "red"}), 422, "invalid"
    )
    assert "colour" in message
    refused(api.call("POST", "/customers", token, {"name": 5}), 422, "invalid")
    refused(
        api.call(
            "POST",
            "/deals",
            token,
            {"customer_id": book["acme"]["id"], "title": "N", "amount": "NaN"},
        ),
        422,
        "invalid",
    )


def test_openapi_document_names_every_route(api: ApiServer) -> None:
    """/api/v1/openapi.json is served without a token and lists each route the server has."""
    from bot.api.openapi import ROUTES

    doc = ok(api.call("GET", "/openapi.json", None))
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {(r.method, r.path) for r in ROUTES}
    # Each GET is also served, and documented, as HEAD.
    served |= {("HEAD", r.path) for r in ROUTES if r.method == "GET"}
    assert documented == served
    assert len(documented) == 27 + sum(r.method == "GET" for r in ROUTES)


def test_archived_customers_leave_the_lists_but_still_open(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """An archived customer's records leave every list; its own record opens, marked archived."""
    t, westco = book["tokens"], book["westco"]
    ok(api.call("POST", "/contacts", t["dave"], {"customer_id": westco["id"], "name": "Wes"}), 201)
    ok(api.call("POST", "/deals", t["dave"], {"customer_id": westco["id"], "title": "Fleet"}), 201)
    note = {"customer_id": westco["id"], "kind": "note", "text": "West note"}
    ok(api.call("POST", "/interactions", t["dave"], note), 201)
    lists = ("/customers", "/contacts", "/deals", "/interactions")

    def counts(who: str) -> list[int]:
        return [len(ok(api.call("GET", path, t[who]))["items"]) for path in lists]

    assert counts("admin") == [2, 1, 1, 1]
    assert counts("dave") == [1, 1, 1, 1]
    reply = api.testbot("dave", f"archive #{westco['id']} confirm")
    assert reply.status != "error", reply.text
    assert counts("admin") == [1, 0, 0, 0]
    assert counts("dave") == [0, 0, 0, 0]
    card = ok(api.call("GET", f"/customers/{westco['id']}", t["dave"]))
    assert card["archived"] is True
    refused(
        api.call("PATCH", f"/customers/{westco['id']}", t["dave"], {"city": "Oslo"}), 422, "invalid"
    )


def test_a_body_over_256_kib_answers_413_in_the_error_shape(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """The documented limit holds on the served app: over 256 KiB (below aiohttp's 1 MiB and
    beyond it, with a length or chunked) answers 413 too_large, never 500; at the limit it is
    read; the server keeps serving."""
    token = book["tokens"]["alice"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def body(size: int) -> bytes:
        return b'{"name": "' + b"a" * (size - 12) + b'"}'

    def chunked(size: int) -> Any:
        data = body(size)
        for start in range(0, len(data), 16384):
            yield data[start : start + 16384]

    for size in (256 * 1024 + 1, 300_000, 2_000_000):
        answer = api.client.post(f"{api.url}/api/v1/customers", headers=headers, content=body(size))
        assert "262144" in refused(answer, 413, "too_large")
    answer = api.client.post(
        f"{api.url}/api/v1/customers", headers=headers, content=chunked(300_000)
    )
    refused(answer, 413, "too_large")
    # At the limit the body is read: the name is then too long, which is a 422, not a 413.
    refused(
        api.client.post(f"{api.url}/api/v1/customers", headers=headers, content=body(256 * 1024)),
        422,
        "invalid",
    )
    ok(api.call("GET", "/customers", token))
    doc = ok(api.call("GET", "/openapi.json", None))
    assert "413" in doc["paths"]["/customers"]["post"]["responses"]
    assert "413" not in doc["paths"]["/customers"]["get"]["responses"]
    assert "500" in doc["paths"]["/customers"]["get"]["responses"]


def test_one_idempotency_key_posted_in_parallel_logs_one_note(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """Parallel posts of one key: one 201, the others 200 with that note, never a 500."""
    import concurrent.futures

    token = book["tokens"]["alice"]
    body = {
        "customer_id": book["acme"]["id"],
        "kind": "call",
        "text": "race for one note",
        "idempotency_key": "race-1",
    }

    def post(_: int) -> tuple[int, Any]:
        with httpx.Client(timeout=60) as client:
            answer = client.post(
                f"{api.url}/api/v1/interactions",
                headers={"Authorization": f"Bearer {token}"},
                json=body,
            )
        return answer.status_code, answer.json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 7 + [201], results
    assert len({answer["id"] for _, answer in results}) == 1
    assert api.testbot.count(Interaction) == 1


def test_an_idempotency_key_reused_with_another_note_is_refused(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """The same key with another customer, kind, time or text answers 422 and logs nothing;
    the same note again (a retry, text spacing as stored) answers the first note."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    body = {
        "customer_id": acme["id"],
        "kind": "call",
        "text": "Asked for a quote",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "idempotency_key": "k-7",
    }
    note = ok(api.call("POST", "/interactions", t["alice"], body), 201)
    same = {**body, "occurred_at": "2026-11-20T09:00:00Z", "text": "  Asked for a quote "}
    assert ok(api.call("POST", "/interactions", t["alice"], same), 200)["id"] == note["id"]
    other = ok(api.call("POST", "/customers", t["alice"], {"name": "Otherco"}), 201)
    for change in (
        {"customer_id": other["id"]},
        {"kind": "visit"},
        {"text": "Sent the quote"},
        {"occurred_at": "2026-11-21T10:00:00+01:00"},
    ):
        message = refused(
            api.call("POST", "/interactions", t["alice"], {**body, **change}), 422, "invalid"
        )
        assert "k-7" in message and f"#{note['id']}" in message
    assert api.testbot.count(Interaction) == 1
    # Keys are each user's own: dave's k-7 is a note of his.
    dave = {**body, "customer_id": westco["id"]}
    assert ok(api.call("POST", "/interactions", t["dave"], dave), 201)["id"] != note["id"]


def test_api_calls_are_counted_and_a_failure_logs_its_ref(
    api: ApiServer,
    book: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/metrics counts API calls by route and status; an internal failure's log record carries
    the `ref` the caller was given (a key of the JSON line, not only inside the message)."""
    from prometheus_client.parser import text_string_to_metric_families

    from bot.logs import JsonFormatter, Redactor
    from handlers import rest

    token = book["tokens"]["alice"]
    ok(api.call("GET", "/customers", token))
    refused(api.call("GET", "/customers/999999", token), 404, "not_found")
    refused(api.call("GET", "/nothing-here", token), 404, "not_found")

    def boom(ctx: Any, call: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(rest.OPERATIONS, "listDeals", rest.Operation(boom, False))
    with caplog.at_level("ERROR", logger="bot.api.routes"):
        message = refused(api.call("GET", "/deals", token), 500, "internal")
    failed = [r for r in caplog.records if r.name == "bot.api.routes"]
    assert failed and getattr(failed[0], "ref", None)
    ref = failed[0].ref  # type: ignore[attr-defined]
    assert ref in message
    assert json.loads(JsonFormatter(Redactor()).format(failed[0]))["ref"] == ref

    body = api.client.get(f"{api.url}/metrics").text
    counts = {
        (s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "crmbot_api_calls_total"
    }
    assert counts[("listCustomers", "200")] == 1
    assert counts[("getCustomer", "404")] == 1
    assert counts[("unmatched", "404")] == 1
    assert counts[("listDeals", "500")] == 1
    assert counts[("createCustomer", "201")] == 2  # the book's two customers
