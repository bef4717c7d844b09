"""What an integrator's sync job meets: near duplicates, retries, filters, handovers (rev12)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, StageChange, User
from tests.bot.api.conftest import ApiServer
from tests.bot.api.test_routes import ok, refused


@pytest.fixture
def tokens(api: ApiServer) -> dict[str, str]:
    """A write token for each user of the test book."""
    return {who: api.token(who) for who in ("alice", "carol", "bob", "dave", "admin")}


def test_a_near_duplicate_name_is_a_422_naming_the_existing_id_and_force(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """A close name is refused in the error shape with the id to use and the field to send."""
    first = ok(api.call("POST", "/customers", tokens["alice"], {"name": "Acme Logistics"}), 201)
    message = refused(
        api.call("POST", "/customers", tokens["alice"], {"name": "Acme Logistcs"}), 422, "invalid"
    )
    assert f"#{first['id']}" in message and '"force": true' in message, message
    exact = refused(
        api.call("POST", "/customers", tokens["alice"], {"name": "Acme Logistics"}), 422, "invalid"
    )
    assert f"#{first['id']}" in exact, exact
    forced = api.call(
        "POST", "/customers", tokens["alice"], {"name": "Acme Logistcs", "force": True}
    )
    assert ok(forced, 201)["name"] == "Acme Logistcs"


def _audit_count(api: ApiServer, action: str, entity_id: int) -> int:
    rows = api.testbot.rows(
        select(AuditEntry.id).where(AuditEntry.action == action, AuditEntry.entity_id == entity_id)
    )
    return len(rows)


def test_a_retried_stage_move_answers_the_deal_unchanged(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """The same move again (its first answer lost) is 200 with one stage change, for a rep's
    won deal too; a different lost reason is still refused."""
    acme = ok(api.call("POST", "/customers", tokens["alice"], {"name": "Acme"}), 201)
    for stage in ("proposal", "won"):
        deal = ok(
            api.call(
                "POST", "/deals", tokens["alice"], {"customer_id": acme["id"], "title": stage}
            ),
            201,
        )
        path = f"/deals/{deal['id']}/stage"
        first = ok(api.call("POST", path, tokens["alice"], {"stage": stage}))
        again = ok(api.call("POST", path, tokens["alice"], {"stage": stage}))
        assert first == again and again["stage"] == stage
        # One change for the creation, one for the move: none for the retry.
        moves = api.testbot.rows(select(StageChange.id).where(StageChange.deal_id == deal["id"]))
        assert len(moves) == 2, moves
        assert _audit_count(api, "deal.move", deal["id"]) == 1
    lost = ok(
        api.call("POST", "/deals", tokens["alice"], {"customer_id": acme["id"], "title": "L"}), 201
    )
    path = f"/deals/{lost['id']}/stage"
    ok(api.call("POST", path, tokens["bob"], {"stage": "lost", "reason": "price"}))
    assert (
        ok(api.call("POST", path, tokens["bob"], {"stage": "lost", "reason": "price"}))[
            "lost_reason"
        ]
        == "price"
    )
    refused(
        api.call("POST", path, tokens["bob"], {"stage": "lost", "reason": "timing"}), 422, "invalid"
    )


def test_retried_reminder_and_ticket_status_changes_answer_200_unchanged(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """done/cancelled again, waiting/resolved/closed again: 200, one audit entry each."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    for status in ("done", "cancelled"):
        reminder = ok(
            api.call("POST", "/reminders", t, {"text": status, "due_at": "2026-12-01T09:00:00Z"}),
            201,
        )
        path = f"/reminders/{reminder['id']}"
        first = ok(api.call("PATCH", path, t, {"status": status}))
        assert ok(api.call("PATCH", path, t, {"status": status})) == first
        action = "reminder.done" if status == "done" else "reminder.cancel"
        assert _audit_count(api, action, reminder["id"]) == 1
    ticket = ok(api.call("POST", "/tickets", t, {"customer_id": acme["id"], "subject": "Jam"}), 201)
    path = f"/tickets/{ticket['id']}"
    for change in (
        {"status": "waiting"},
        {"status": "resolved", "text": "fixed"},
        {"status": "closed"},
    ):
        first = ok(api.call("PATCH", path, t, change))
        again = ok(api.call("PATCH", path, t, change))
        assert again == first and again["status"] == change["status"]
    kinds = [e["kind"] for e in again["events"]]
    assert kinds == ["created", "wait", "resolve", "close"], kinds
    assert _audit_count(api, "ticket.close", ticket["id"]) == 1


def test_an_unknown_query_parameter_is_refused_naming_the_allowed_ones(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """A misspelled filter is a 422, never the whole book (a wider answer than asked)."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    ok(api.call("POST", "/deals", t, {"customer_id": acme["id"], "title": "Pilot"}), 201)
    for path, params, name in (
        ("/deals", {"status": "open"}, "status"),
        ("/deals", {"customerId": str(acme["id"])}, "customerId"),
        ("/deals", {"limt": "1"}, "limt"),
        ("/contacts", {"email": "nobody@nowhere.example"}, "email"),
    ):
        message = refused(api.call("GET", path, t, params=params), 422, "invalid")
        assert f'"{name}"' in message and "limit, cursor" in message, message
    message = refused(
        api.call("GET", f"/deals/{acme['id']}", t, params={"expand": "customer"}), 422, "invalid"
    )
    assert '"expand"' in message, message
    # The documented ones still work.
    assert (
        len(ok(api.call("GET", "/deals", t, params={"open": "true", "limit": "5"}))["items"]) == 1
    )


def test_me_and_any_case_read_alike_in_every_filter(api: ApiServer, tokens: dict[str, str]) -> None:
    """`owner=me` as `assignee=me`; `OPEN`, `CALL`, `Won` as their lower-case forms."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    ok(api.call("POST", "/deals", t, {"customer_id": acme["id"], "title": "Pilot"}), 201)
    ok(api.call("POST", "/reminders", t, {"text": "x", "due_at": "2026-12-01T09:00:00Z"}), 201)
    for path in ("/customers", "/deals", "/reminders"):
        mine = ok(api.call("GET", path, t, params={"owner": "me"}))["items"]
        assert len(mine) == 1 and mine[0]["owner"] == "alice", (path, mine)
    ok(api.call("POST", "/tickets", t, {"customer_id": acme["id"], "subject": "Jam"}), 201)
    for path, params in (
        ("/tickets", {"status": "NEW"}),
        ("/interactions", {"kind": "CALL"}),
        ("/reminders", {"status": "PENDING"}),
        ("/tickets", {"priority": "Normal"}),
        ("/deals", {"stage": "LEAD"}),
        ("/fields", {"record": "Deal"}),
    ):
        ok(api.call("GET", path, t, params=params))
    logged = api.call(
        "POST", "/interactions", t, {"customer_id": acme["id"], "kind": "CALL", "text": "hi"}
    )
    assert ok(logged, 201)["kind"] == "call"


def test_handing_work_to_a_deactivated_teammate_is_invalid_not_forbidden(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """A manager handing a ticket or a reminder to a leaver of the team hears that they left
    (422, as for a deal's owner), in the API and in chat; not that the manager may not."""
    acme = ok(api.call("POST", "/customers", tokens["alice"], {"name": "Acme"}), 201)
    ticket = ok(
        api.call("POST", "/tickets", tokens["alice"], {"customer_id": acme["id"], "subject": "J"}),
        201,
    )
    with unit_of_work(api.testbot.session_factory) as session:
        leaver = session.get(User, api.testbot.users["carol"])
        assert leaver is not None
        leaver.active = False
    manager = tokens["bob"]
    for answer in (
        api.call("PATCH", f"/tickets/{ticket['id']}", manager, {"assignee": "carol"}),
        api.call(
            "POST",
            "/tickets",
            manager,
            {"customer_id": acme["id"], "subject": "K", "assignee": "carol"},
        ),
        api.call(
            "POST",
            "/reminders",
            manager,
            {"text": "call", "due_at": "2026-12-01T09:00:00Z", "owner": "carol"},
        ),
    ):
        assert "no longer active" in refused(answer, 422, "invalid")
    deal = ok(api.call("POST", "/deals", manager, {"customer_id": acme["id"], "title": "D"}), 201)
    message = refused(
        api.call("PATCH", f"/deals/{deal['id']}", manager, {"owner": "carol"}), 422, "invalid"
    )
    # The field to send, not chat's "owner @alice".
    assert "no longer active" in message and '"owner"' in message, message
    for line in (f"assign #{ticket['id']} to @carol", "remind @carol tomorrow 9:00 call Acme"):
        reply = api.testbot("bob", line)
        assert "no longer active" in reply.text, (line, reply.text)


def test_api_refusals_say_what_to_send_not_what_to_type_in_chat(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """No chat command in a 4xx message: the field to send and its form, in the asked language."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    westco = ok(api.call("POST", "/customers", tokens["dave"], {"name": "Westco"}), 201)
    deal = ok(api.call("POST", "/deals", t, {"customer_id": acme["id"], "title": "Pilot"}), 201)
    ticket = ok(api.call("POST", "/tickets", t, {"customer_id": acme["id"], "subject": "J"}), 201)
    cases: list[tuple[str, str, object, int, str]] = [
        ("GET", f"/customers/{westco['id']}", None, 404, f"#{westco['id']}"),
        ("GET", "/interactions/999999", None, 404, "see"),
        ("GET", "/reminders/999999", None, 404, "see"),
        ("POST", "/interactions", {"customer_id": acme["id"], "kind": "call", "text": ""}, 422,
         '"text"'),
        ("POST", "/reminders", {"text": "x", "due_at": "2020-01-01T00:00:00Z"}, 422, '"due_at"'),
        ("POST", "/deals", {"customer_id": acme["id"], "title": "Big",
                            "amount": "1234567890123456.78"}, 422, "999999999999.99"),
        ("POST", "/deals", {"customer_id": acme["id"], "title": "Pilot"}, 422, f"#{deal['id']}"),
        ("POST", f"/deals/{deal['id']}/stage", {"stage": "lost"}, 422, '"reason"'),
        ("PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"}, 422, '"text"'),
    ]  # fmt: skip
    for method, path, body, status, named in cases:
        answer = api.call(method, path, t, body)
        code = "not_found" if status == 404 else "invalid"
        message = refused(answer, status, code)
        assert "`" not in message and "Type " not in message, (path, message)
        assert named in message, (path, message)
    chinese = api.client.request(
        "POST",
        f"{api.url}/api/v1/deals/{deal['id']}/stage",
        headers={"Authorization": f"Bearer {t}", "Accept-Language": "zh-CN"},
        json={"stage": "lost"},
    )
    message = refused(chinese, 422, "invalid")
    assert '"reason"' in message and "原因" in message and "`" not in message, message
    # Chat keeps its instructions.
    assert "`" in api.testbot("alice", f"move #{deal['id']} to lost").text


def test_every_api_wording_has_the_chat_messages_parameters() -> None:
    """An `api.error.*` message uses only what its service error gives (no KeyError, fault 1)."""
    from string import Formatter

    from handlers.i18n import catalogue

    for locale in ("en", "zh"):
        messages = catalogue(locale)
        for key, text in messages.items():
            if not key.startswith("api.error."):
                continue
            chat = messages[key.removeprefix("api.")]
            given = {f for _, f, _, _ in Formatter().parse(chat) if f} | {"max_amount", "id"}
            used = {f for _, f, _, _ in Formatter().parse(text) if f}
            assert used <= given, (locale, key, used - given)


def test_delete_contact_removes_it_audited_and_hides_other_books(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """204 and gone, its notes unlinked; another book's contact is a 404 like a missing one."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    westco = ok(api.call("POST", "/customers", tokens["dave"], {"name": "Westco"}), 201)
    dana = ok(api.call("POST", "/contacts", t, {"customer_id": acme["id"], "name": "Dana"}), 201)
    theirs = ok(
        api.call("POST", "/contacts", tokens["dave"], {"customer_id": westco["id"], "name": "Wu"}),
        201,
    )
    note = ok(
        api.call(
            "POST",
            "/interactions",
            t,
            {"customer_id": acme["id"], "kind": "call", "text": "hi", "contact_id": dana["id"]},
        ),
        201,
    )
    hidden = api.call("DELETE", f"/contacts/{theirs['id']}", t)
    missing = api.call("DELETE", "/contacts/999999", t)
    assert refused(hidden, 404, "not_found").replace(str(theirs["id"]), "N") == refused(
        missing, 404, "not_found"
    ).replace("999999", "N")
    read_only = api.token("alice", scope="read")
    refused(api.call("DELETE", f"/contacts/{dana['id']}", read_only), 403, "forbidden")
    gone = api.call("DELETE", f"/contacts/{dana['id']}", t)
    assert gone.status_code == 204 and gone.content == b""
    refused(api.call("GET", f"/contacts/{dana['id']}", t), 404, "not_found")
    refused(api.call("DELETE", f"/contacts/{dana['id']}", t), 404, "not_found")
    assert ok(api.call("GET", f"/interactions/{note['id']}", t))["contact_id"] is None
    assert ok(api.call("GET", f"/contacts/{theirs['id']}", tokens["dave"]))["name"] == "Wu"
    assert _audit_count(api, "contact.delete", dana["id"]) == 1
    doc = api.call("GET", "/openapi.json", None).json()
    assert doc["paths"]["/contacts/{id}"]["delete"]["operationId"] == "deleteContact"


def test_the_idempotency_key_header_is_honoured_or_refused_never_ignored(
    api: ApiServer, tokens: dict[str, str]
) -> None:
    """The IETF draft's header makes a note's retry harmless; elsewhere it is a 422; an empty
    key is empty, not too long; a wrong reminder status names the statuses."""
    t = tokens["alice"]
    acme = ok(api.call("POST", "/customers", t, {"name": "Acme"}), 201)
    note = {"customer_id": acme["id"], "kind": "call", "text": "hi"}

    def post(path: str, body: object, key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {t}", "Idempotency-Key": key}
        return api.client.post(f"{api.url}/api/v1{path}", headers=headers, json=body)

    first = ok(post("/interactions", note, "hdr-xyz"), 201)
    assert ok(post("/interactions", note, '"hdr-xyz"'), 200)["id"] == first["id"]
    both = {**note, "idempotency_key": "other"}
    assert '"idempotency_key"' in refused(post("/interactions", both, "hdr-xyz"), 422, "invalid")
    ticket = {"customer_id": acme["id"], "subject": "Jam"}
    assert "Idempotency-Key" in refused(post("/tickets", ticket, "t-1"), 422, "invalid")
    empty = refused(
        api.call("POST", "/interactions", t, {**note, "idempotency_key": ""}), 422, "invalid"
    )
    assert "empty" in empty and "too long" not in empty, empty
    reminder = ok(
        api.call("POST", "/reminders", t, {"text": "x", "due_at": "2026-12-01T09:00:00Z"}), 201
    )
    wrong = refused(
        api.call("PATCH", f"/reminders/{reminder['id']}", t, {"status": "sent"}), 422, "invalid"
    )
    assert "done, cancelled" in wrong and "not both" not in wrong, wrong
