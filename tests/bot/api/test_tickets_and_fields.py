"""Tickets and custom fields in the REST API, as a rep, a manager and an admin.

The same services as the chat verbs (`ticket`, `assign`, `priority`, `reply`, `wait`, `resolve`,
`reopen`, `edit customer ... region North`): their access rules, checks, timeline and audit.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Customer, TicketEvent
from tests.bot.api.conftest import ApiServer
from tests.bot.api.test_routes import _same_refusal, ok, refused


@pytest.fixture
def book(api: ApiServer) -> dict[str, Any]:
    """Tokens for everyone; alice's Acme (team East, bob's) and dave's Westco (team West)."""
    tokens = {who: api.token(who) for who in ("alice", "carol", "bob", "dave", "admin")}
    acme = ok(api.call("POST", "/customers", tokens["alice"], {"name": "Acme"}), 201)
    westco = ok(api.call("POST", "/customers", tokens["dave"], {"name": "Westco"}), 201)
    return {"tokens": tokens, "acme": acme, "westco": westco}


def test_tickets_open_list_read_and_move_for_each_role(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """Open, list with filters, read with the timeline, assign, reprioritise, reply, resolve."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    jam = ok(
        api.call(
            "POST",
            "/tickets",
            t["alice"],
            {"customer_id": acme["id"], "subject": "Printer jams", "priority": "high"},
        ),
        201,
    )
    assert (jam["status"], jam["priority"], jam["assignee"]) == ("new", "high", None)
    assert [e["kind"] for e in jam["events"]] == ["created"]
    assert jam["response_due_at"] is not None and jam["created_by"] == "alice"
    west = ok(
        api.call("POST", "/tickets", t["dave"], {"customer_id": westco["id"], "subject": "Late"}),
        201,
    )
    # Another book's customer is missing, for a ticket as for anything else.
    refused(
        api.call("POST", "/tickets", t["alice"], {"customer_id": westco["id"], "subject": "x"}),
        404,
        "not_found",
    )
    refused(
        api.call("POST", "/tickets", t["alice"], {"customer_id": acme["id"], "subject": " "}),
        422,
        "invalid",
    )
    refused(
        api.call(
            "POST",
            "/tickets",
            t["alice"],
            {"customer_id": acme["id"], "subject": "x", "priority": "soon"},
        ),
        422,
        "invalid",
    )

    def subjects(who: str, **params: Any) -> list[str]:
        page = ok(api.call("GET", "/tickets", t[who], params=params))
        return [k["subject"] for k in page["items"]]

    assert subjects("alice") == ["Printer jams"]
    assert subjects("carol") == []
    assert subjects("bob") == ["Printer jams"]
    assert subjects("dave") == ["Late"]
    assert subjects("admin") == ["Printer jams", "Late"]
    assert subjects("admin", priority="high") == ["Printer jams"]
    assert subjects("admin", customer_id=westco["id"]) == ["Late"]
    assert subjects("admin", status="new") == ["Printer jams", "Late"]
    assert subjects("admin", status="open") == []
    refused(api.call("GET", "/tickets", t["admin"], params={"status": "done"}), 422, "invalid")
    _same_refusal(api, t["alice"], "/tickets/{}", west["id"], 999_999)
    _same_refusal(api, t["bob"], "/tickets/{}", west["id"], 999_999)

    # A rep hands it to a teammate; not to someone of another team (as `assign` refuses).
    refused(
        api.call("PATCH", f"/tickets/{jam['id']}", t["alice"], {"assignee": "dave"}),
        403,
        "forbidden",
    )
    change = {"assignee": "carol", "priority": "urgent"}
    moved = ok(api.call("PATCH", f"/tickets/{jam['id']}", t["alice"], change))
    assert (moved["status"], moved["assignee"], moved["priority"]) == ("open", "carol", "urgent")
    # Carol sees it now: it is assigned to her, though Acme is not in her book.
    assert subjects("carol") == ["Printer jams"]
    assert subjects("admin", assignee="carol") == ["Printer jams"]
    assert subjects("carol", assignee="me") == ["Printer jams"]
    replied = ok(
        api.call("PATCH", f"/tickets/{jam['id']}", t["carol"], {"reply": "a technician comes"})
    )
    assert replied["first_response_at"] is not None
    refused(
        api.call("PATCH", f"/tickets/{jam['id']}", t["carol"], {"status": "resolved"}),
        422,
        "invalid",
    )
    refused(api.call("PATCH", f"/tickets/{jam['id']}", t["carol"], {}), 422, "invalid")
    refused(
        api.call("PATCH", f"/tickets/{jam['id']}", t["carol"], {"text": "alone"}), 422, "invalid"
    )
    # A refused change writes nothing, the parts before the refusal included.
    refused(
        api.call(
            "PATCH", f"/tickets/{jam['id']}", t["carol"], {"priority": "low", "status": "new"}
        ),
        422,
        "invalid",
    )
    assert ok(api.call("GET", f"/tickets/{jam['id']}", t["carol"]))["priority"] == "urgent"
    waiting = ok(api.call("PATCH", f"/tickets/{jam['id']}", t["carol"], {"status": "waiting"}))
    assert waiting["status"] == "waiting" and waiting["response_due_at"] is None
    resumed = ok(api.call("PATCH", f"/tickets/{jam['id']}", t["bob"], {"status": "open"}))
    assert resumed["status"] == "open"
    done = ok(
        api.call(
            "PATCH",
            f"/tickets/{jam['id']}",
            t["carol"],
            {"status": "resolved", "text": "replaced the feed roller"},
        )
    )
    assert done["status"] == "resolved" and done["resolved_at"] is not None
    assert [e["kind"] for e in done["events"]] == [
        "created",
        "assigned",
        "priority",
        "reply",
        "wait",
        "resume",
        "resolve",
    ]
    assert done["events"][-1] == {
        **done["events"][-1],
        "actor": "carol",
        "status": "resolved",
        "text": "replaced the feed roller",
    }
    closed = ok(api.call("PATCH", f"/tickets/{jam['id']}", t["admin"], {"status": "closed"}))
    assert closed["status"] == "closed"
    refused(
        api.call("PATCH", f"/tickets/{west['id']}", t["alice"], {"priority": "low"}),
        404,
        "not_found",
    )
    read_only = api.token("alice", scope="read")
    refused(
        api.call("PATCH", f"/tickets/{jam['id']}", read_only, {"status": "open"}), 403, "forbidden"
    )
    assert ok(api.call("GET", f"/tickets/{jam['id']}", read_only))["status"] == "closed"

    actions = {
        (a, who)
        for a, who in api.testbot.rows(
            select(AuditEntry.action, AuditEntry.actor_id).where(
                AuditEntry.entity_type == "tickets", AuditEntry.entity_id == jam["id"]
            )
        )
    }
    users = api.testbot.users
    assert actions == {
        ("ticket.create", users["alice"]),
        ("ticket.assign", users["alice"]),
        ("ticket.priority", users["alice"]),
        ("ticket.reply", users["carol"]),
        ("ticket.wait", users["carol"]),
        ("ticket.resume", users["bob"]),
        ("ticket.resolve", users["carol"]),
        ("ticket.close", users["admin"]),
    }
    # What the API did, chat's card shows: the same timeline rows.
    assert api.testbot.count(TicketEvent) == 9


def test_ticket_pages_follow_the_cursor(api: ApiServer, book: dict[str, Any]) -> None:
    """Cursor paging over tickets visits each visible ticket once."""
    t, acme = book["tokens"], book["acme"]
    for i in range(5):
        body = {"customer_id": acme["id"], "subject": f"Issue {i}"}
        ok(api.call("POST", "/tickets", t["alice"], body), 201)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(api.call("GET", "/tickets", t["bob"], params=params))
        seen += [k["subject"] for k in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"Issue {i}" for i in range(5)]


def test_custom_fields_read_and_written_as_chat_checks_them(
    api: ApiServer, book: dict[str, Any]
) -> None:
    """GET /fields lists the declared fields; PATCH `custom` sets values with chat's checks."""
    t, acme, westco = book["tokens"], book["acme"], book["westco"]
    for line in (
        "field add customer region choice North, South",
        "field add customer seats number",
        "field add contact vip yesno",
        "field add deal renewal date",
    ):
        assert api.testbot("admin", line).status != "error", line
    fields = ok(api.call("GET", "/fields", t["alice"]))
    assert fields["next"] is None
    assert [(f["record"], f["name"], f["kind"]) for f in fields["items"]] == [
        ("customer", "region", "choice"),
        ("customer", "seats", "number"),
        ("contact", "vip", "yesno"),
        ("deal", "renewal", "date"),
    ]
    assert fields["items"][0]["choices"] == ["North", "South"]
    only = ok(api.call("GET", "/fields", t["alice"], params={"record": "deal"}))["items"]
    assert [f["name"] for f in only] == ["renewal"]
    assert acme["custom"] == {}

    # Typed as chat reads them: a choice in any case, a number with separators or as JSON.
    changed = ok(
        api.call(
            "PATCH",
            f"/customers/{acme['id']}",
            t["alice"],
            {"custom": {"region": "north", "seats": "1,200"}},
        )
    )
    assert changed["custom"] == {"region": "North", "seats": "1200"}
    assert ok(api.call("PATCH", f"/customers/{acme['id']}", t["bob"], {"custom": {"seats": 35.5}}))[
        "custom"
    ] == {"region": "North", "seats": "35.5"}
    assert ok(api.call("GET", f"/customers/{acme['id']}", t["admin"]))["custom"] == {
        "region": "North",
        "seats": "35.5",
    }
    # Refused as chat refuses, writing nothing: no such choice, not a number, no such field.
    for bad in ({"region": "East"}, {"seats": "many"}, {"colour": "red"}, {"seats": [1]}):
        refused(
            api.call("PATCH", f"/customers/{acme['id']}", t["alice"], {"custom": bad}),
            422,
            "invalid",
        )
    refused(
        api.call("PATCH", f"/customers/{acme['id']}", t["alice"], {"custom": "North"}),
        422,
        "invalid",
    )
    refused(
        api.call(
            "PATCH", f"/customers/{westco['id']}", t["alice"], {"custom": {"region": "South"}}
        ),
        404,
        "not_found",
    )
    stored = api.testbot.query(select(Customer.custom).where(Customer.id == acme["id"]))
    assert stored == [{"region": "North", "seats": "35.5"}]
    # null clears one value; the other stays.
    cleared = ok(
        api.call("PATCH", f"/customers/{acme['id']}", t["alice"], {"custom": {"seats": None}})
    )
    assert cleared["custom"] == {"region": "North"}

    dana = ok(
        api.call("POST", "/contacts", t["alice"], {"customer_id": acme["id"], "name": "Dana"}), 201
    )
    vip = ok(api.call("PATCH", f"/contacts/{dana['id']}", t["alice"], {"custom": {"vip": True}}))
    assert vip["custom"] == {"vip": True}
    refused(
        api.call("PATCH", f"/contacts/{dana['id']}", t["alice"], {"custom": {"vip": "maybe"}}),
        422,
        "invalid",
    )
    deal = ok(
        api.call("POST", "/deals", t["alice"], {"customer_id": acme["id"], "title": "Pilot"}), 201
    )
    renewal = ok(
        api.call("PATCH", f"/deals/{deal['id']}", t["admin"], {"custom": {"renewal": "2027-01-15"}})
    )
    assert renewal["custom"] == {"renewal": "2027-01-15"}
    refused(
        api.call("PATCH", f"/deals/{deal['id']}", t["admin"], {"custom": {"renewal": "soonish"}}),
        422,
        "invalid",
    )
    assert ok(api.call("GET", "/deals", t["bob"]))["items"][0]["custom"] == {
        "renewal": "2027-01-15"
    }

    # Each change audited as an edit is, the custom key naming the field.
    changes = [
        c
        for (c,) in api.testbot.rows(
            select(AuditEntry.changes)
            .where(AuditEntry.entity_type == "customers", AuditEntry.action == "customer.update")
            .order_by(AuditEntry.id)
        )
    ]
    assert changes[0] == {"custom.region": [None, "North"], "custom.seats": [None, "1200"]}
    assert changes[-1] == {"custom.seats": ["35.5", None]}
