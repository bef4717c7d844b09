"""The REST API's routes and its OpenAPI 3.1 document, built from one table so they cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "/api/v1"
MAX_ID = 2**63 - 1
MAX_PAGE = 200


@dataclass(frozen=True)
class Route:
    """One operation: method, path under /api/v1, operation id, and what it reads and answers."""

    method: str
    path: str
    operation: str
    summary: str
    resource: str
    params: tuple[str, ...] = ()
    body: str | None = None
    list_of: bool = False
    # The schema of a single-record answer when it differs from the list items' (a timeline).
    answer: str | None = None


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_TIME = {"type": "string", "format": "date-time"}
_DAY = {"type": "string", "format": "date"}
_KINDS = ["call", "meeting", "visit", "email", "chat", "note"]
_STATUSES = ["pending", "sent", "done", "cancelled", "failed"]
_TICKET_STATUSES = ["new", "open", "waiting", "resolved", "closed"]
_PRIORITIES = ["urgent", "high", "normal", "low"]
_RECORDS = ["customer", "contact", "deal"]
_EVENTS = [
    "created", "assigned", "reply", "wait", "resume", "resolve", "reopen", "close", "priority",
]  # fmt: skip
# Stored forms: text, number, date and choice as strings, yes/no as a boolean.
_CUSTOM = {
    "type": "object",
    "additionalProperties": {"type": ["string", "boolean"]},
    "description": "custom field values by field name (see GET /fields)",
}
_CUSTOM_CHANGE = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    "description": (
        "custom field values to set by field name, checked as chat's edit checks them "
        '(a number such as 1200 or "1,200", a date such as 2027-01-15, one of a choice '
        "field's choices, true/false); null clears one; fields not named keep their values"
    ),
}


def _record(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
    }


RECORDS: dict[str, dict[str, Any]] = {
    "Customer": _record(
        {
            "id": _ID,
            "name": {"type": "string"},
            "owner": _nullable("string", description="the owner's handle"),
            "industry": _nullable("string"),
            "city": _nullable("string"),
            "tags": {"type": "array", "items": {"type": "string"}},
            "archived": {"type": "boolean"},
            "merged_into": _nullable("integer", description="the customer it was merged into"),
            "custom": _CUSTOM,
            "created_at": _nullable("string", format="date-time"),
            "updated_at": _nullable("string", format="date-time"),
        }
    ),
    "Contact": _record(
        {
            "id": _ID,
            "customer_id": _ID,
            "name": {"type": "string"},
            "title": _nullable("string"),
            "email": _nullable("string"),
            "phone": _nullable("string"),
            "birthday": _nullable("string", description="YYYY-MM-DD, or --MM-DD without a year"),
            "custom": _CUSTOM,
            "created_at": _nullable("string", format="date-time"),
        }
    ),
    "Deal": _record(
        {
            "id": _ID,
            "customer_id": _ID,
            "title": {"type": "string"},
            "amount": _nullable("string", description="a decimal string, e.g. 1200.00"),
            "currency": {"type": "string"},
            "stage": {"type": "string"},
            "owner": _nullable("string"),
            "expected_close": _nullable("string", format="date"),
            "closed_at": _nullable("string", format="date-time"),
            "lost_reason": _nullable("string"),
            "custom": _CUSTOM,
            "created_at": _nullable("string", format="date-time"),
            "updated_at": _nullable("string", format="date-time"),
        }
    ),
    "Interaction": _record(
        {
            "id": _ID,
            "customer_id": _ID,
            "deal_id": _nullable("integer"),
            "contact_id": _nullable("integer"),
            "author": _nullable("string"),
            "kind": {"type": "string", "enum": _KINDS},
            "occurred_at": _nullable("string", format="date-time"),
            "text": {"type": "string"},
            "source": {"type": "string"},
            "created_at": _nullable("string", format="date-time"),
        }
    ),
    "Reminder": _record(
        {
            "id": _ID,
            "owner": _nullable("string"),
            "text": {"type": "string"},
            "due_at": _nullable("string", format="date-time"),
            "status": {"type": "string", "enum": _STATUSES},
            "customer_id": _nullable("integer"),
            "deal_id": _nullable("integer"),
            "recurrence": _nullable("string"),
            "created_at": _nullable("string", format="date-time"),
        }
    ),
}
_TICKET = {
    "id": _ID,
    "customer_id": _ID,
    "subject": {"type": "string"},
    "description": _nullable("string"),
    "priority": {"type": "string", "enum": _PRIORITIES},
    "status": {"type": "string", "enum": _TICKET_STATUSES},
    "assignee": _nullable("string", description="the assignee's handle"),
    "team": _nullable("string", description="the team whose calendar counts the SLA"),
    "created_by": _nullable("string"),
    "source": {"type": "string"},
    "created_at": _nullable("string", format="date-time"),
    "updated_at": _nullable("string", format="date-time"),
    "first_response_at": _nullable("string", format="date-time"),
    "resolved_at": _nullable("string", format="date-time"),
    "closed_at": _nullable("string", format="date-time"),
    "response_due_at": _nullable("string", format="date-time", description="while it runs"),
    "resolution_due_at": _nullable("string", format="date-time", description="while it runs"),
}
RECORDS["Ticket"] = _record(_TICKET)
RECORDS["TicketEvent"] = _record(
    {
        "kind": {"type": "string", "enum": _EVENTS},
        "at": _nullable("string", format="date-time"),
        "actor": _nullable("string"),
        "status": {"type": "string", "enum": _TICKET_STATUSES},
        "value": _nullable("string", description="a new priority or assignee"),
        "text": _nullable("string"),
    }
)
RECORDS["TicketWithEvents"] = _record(
    {**_TICKET, "events": {"type": "array", "items": {"$ref": "#/components/schemas/TicketEvent"}}}
)
RECORDS["Field"] = _record(
    {
        "record": {"type": "string", "enum": _RECORDS},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["text", "number", "date", "choice", "yesno"]},
        "choices": {"type": "array", "items": {"type": "string"}},
    }
)

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "method_not_allowed",
                        "too_large",
                        "invalid",
                        "rate_limited",
                        "internal",
                    ],
                },
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
            "additionalProperties": False,
        }
    },
    "required": ["error"],
    "additionalProperties": False,
}


def _body(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_TEXT = {"type": "string", "maxLength": 300}
_OPT = _nullable("string", maxLength=100)

BODIES: dict[str, dict[str, Any]] = {
    "NewCustomer": _body(
        {
            "name": _TEXT,
            "industry": _OPT,
            "city": _OPT,
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}},
            "owner": {"type": "string", "description": "a handle; default: the token's user"},
            "force": {"type": "boolean", "description": "create despite a similar name"},
        },
        ("name",),
    ),
    "CustomerChange": _body(
        {
            "name": _TEXT,
            "industry": _OPT,
            "city": _OPT,
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}},
            "custom": _CUSTOM_CHANGE,
        }
    ),
    "NewContact": _body(
        {
            "customer_id": _ID,
            "name": {"type": "string", "maxLength": 200},
            "title": _OPT,
            "email": _nullable("string", maxLength=320),
            "phone": _nullable("string", maxLength=64),
            "birthday": _nullable("string", description="2001-05-03, 05-03, May 3"),
        },
        ("customer_id", "name"),
    ),
    "ContactChange": _body(
        {
            "name": {"type": "string", "maxLength": 200},
            "title": _OPT,
            "email": _nullable("string"),
            "phone": _nullable("string", maxLength=64),
            "birthday": _nullable("string"),
            "custom": _CUSTOM_CHANGE,
        }
    ),
    "NewDeal": _body(
        {
            "customer_id": _ID,
            "title": _TEXT,
            "amount": {"type": ["string", "number", "null"]},
            "currency": _nullable("string", maxLength=3),
            "expected_close": _nullable("string", format="date"),
            "stage": _nullable("string"),
            "owner": _nullable("string"),
        },
        ("customer_id", "title"),
    ),
    "DealChange": _body(
        {
            "title": _TEXT,
            "amount": {"type": ["string", "number", "null"], "description": "null clears it"},
            "currency": _nullable("string", maxLength=3),
            "expected_close": _nullable("string", format="date", description="null clears it"),
            "owner": _nullable("string"),
            "custom": _CUSTOM_CHANGE,
        }
    ),
    "StageMove": _body(
        {
            "stage": {"type": "string"},
            "reason": _nullable("string", description="required to move to a lost stage"),
        },
        ("stage",),
    ),
    "NewInteraction": _body(
        {
            "customer_id": _ID,
            "kind": {"type": "string", "enum": _KINDS},
            "text": {"type": "string", "maxLength": 20_000},
            "occurred_at": _nullable("string", format="date-time"),
            "deal_id": _nullable("integer", minimum=1, maximum=MAX_ID),
            "contact_id": _nullable("integer", minimum=1, maximum=MAX_ID),
            "idempotency_key": _nullable(
                "string", maxLength=200, description="the same key again creates nothing"
            ),
        },
        ("customer_id", "kind", "text"),
    ),
    "InteractionChange": _body({"text": {"type": "string", "maxLength": 20_000}}, ("text",)),
    "NewReminder": _body(
        {
            "text": {"type": "string", "maxLength": 2_000},
            "due_at": _TIME,
            "owner": _nullable("string"),
            "customer_id": _nullable("integer", minimum=1, maximum=MAX_ID),
            "deal_id": _nullable("integer", minimum=1, maximum=MAX_ID),
        },
        ("text", "due_at"),
    ),
    "NewTicket": _body(
        {
            "customer_id": _ID,
            "subject": _TEXT,
            "description": _nullable("string", maxLength=2_000),
            "priority": _nullable("string", enum=[*_PRIORITIES, None]),
            "assignee": _nullable(
                "string", description="a handle, or me; a teammate (an admin: anyone)"
            ),
        },
        ("customer_id", "subject"),
    ),
    "TicketChange": _body(
        {
            "assignee": _nullable("string", description="hand it over: a handle, or me"),
            "priority": _nullable("string", enum=[*_PRIORITIES, None]),
            "reply": _nullable(
                "string", maxLength=2_000, description="log what you answered the customer"
            ),
            "status": _nullable(
                "string",
                enum=[*_TICKET_STATUSES[1:], None],
                description="open (reopen or resume), waiting, resolved (with text), closed",
            ),
            "text": _nullable(
                "string", maxLength=2_000, description="with status: what fixed it, or why"
            ),
        }
    ),
    "ReminderChange": _body(
        {
            "status": {"type": "string", "enum": ["done", "cancelled"]},
            "due_at": {**_TIME, "description": "snooze to this moment"},
        }
    ),
}

PARAMS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50},
    "cursor": {"type": "string", "description": "`next` of the previous page"},
    "q": {"type": "string", "description": "part of the name"},
    "owner": {"type": "string", "description": "the owner's handle, or me"},
    "city": {"type": "string"},
    "industry": {"type": "string"},
    "customer_id": _ID,
    "deal_id": _ID,
    "stage": {"type": "string"},
    "open": {"type": "boolean"},
    "kind": {"type": "string", "enum": _KINDS},
    "status": {"type": "string", "enum": _STATUSES},
    "status:ticket": {"type": "string", "enum": _TICKET_STATUSES},
    "priority": {"type": "string", "enum": _PRIORITIES},
    "assignee": {"type": "string", "description": "the assignee's handle, or me"},
    "record": {"type": "string", "enum": _RECORDS},
}

_PAGE = ("limit", "cursor")
ROUTES: tuple[Route, ...] = (
    Route("GET", "/customers", "listCustomers", "List customers", "Customer",
          (*_PAGE, "q", "owner", "city", "industry"), list_of=True),
    Route("POST", "/customers", "createCustomer", "Create a customer", "Customer",
          body="NewCustomer"),
    Route("GET", "/customers/{id}", "getCustomer", "Read a customer", "Customer"),
    Route("PATCH", "/customers/{id}", "updateCustomer", "Change a customer", "Customer",
          body="CustomerChange"),
    Route("GET", "/contacts", "listContacts", "List contacts", "Contact",
          (*_PAGE, "customer_id", "q"), list_of=True),
    Route("POST", "/contacts", "createContact", "Add a contact", "Contact", body="NewContact"),
    Route("GET", "/contacts/{id}", "getContact", "Read a contact", "Contact"),
    Route("PATCH", "/contacts/{id}", "updateContact", "Change a contact", "Contact",
          body="ContactChange"),
    Route("DELETE", "/contacts/{id}", "deleteContact",
          "Remove a contact (its notes stay on the customer, unlinked)", "Contact"),
    Route("GET", "/deals", "listDeals", "List deals", "Deal",
          (*_PAGE, "customer_id", "stage", "owner", "open"), list_of=True),
    Route("POST", "/deals", "createDeal", "Open a deal", "Deal", body="NewDeal"),
    Route("GET", "/deals/{id}", "getDeal", "Read a deal", "Deal"),
    Route("PATCH", "/deals/{id}", "updateDeal", "Change a deal", "Deal", body="DealChange"),
    Route("POST", "/deals/{id}/stage", "moveDeal", "Move a deal to a stage", "Deal",
          body="StageMove"),
    Route("GET", "/interactions", "listInteractions", "List interactions (notes)", "Interaction",
          (*_PAGE, "customer_id", "deal_id", "kind"), list_of=True),
    Route("POST", "/interactions", "createInteraction", "Log an interaction", "Interaction",
          body="NewInteraction"),
    Route("GET", "/interactions/{id}", "getInteraction", "Read an interaction", "Interaction"),
    Route("PATCH", "/interactions/{id}", "updateInteraction", "Edit an interaction's text",
          "Interaction", body="InteractionChange"),
    Route("GET", "/reminders", "listReminders", "List reminders", "Reminder",
          (*_PAGE, "status", "owner", "customer_id"), list_of=True),
    Route("POST", "/reminders", "createReminder", "Set a reminder", "Reminder",
          body="NewReminder"),
    Route("GET", "/reminders/{id}", "getReminder", "Read a reminder", "Reminder"),
    Route("PATCH", "/reminders/{id}", "updateReminder", "Complete, cancel or snooze a reminder",
          "Reminder", body="ReminderChange"),
    Route("GET", "/tickets", "listTickets", "List tickets", "Ticket",
          (*_PAGE, "status:ticket", "priority", "assignee", "customer_id"), list_of=True),
    Route("POST", "/tickets", "createTicket", "Open a ticket", "Ticket", body="NewTicket",
          answer="TicketWithEvents"),
    Route("GET", "/tickets/{id}", "getTicket", "Read a ticket with its timeline", "Ticket",
          answer="TicketWithEvents"),
    Route("PATCH", "/tickets/{id}", "updateTicket",
          "Assign, reprioritise, reply to or move a ticket", "Ticket", body="TicketChange",
          answer="TicketWithEvents"),
    Route("GET", "/fields", "listFields", "List the declared custom fields", "Field",
          ("record",), list_of=True),
)  # fmt: skip

_ERRORS = {
    "401": "no valid token (missing, unknown or revoked)",
    "403": "the token's user may not do this, or a read-only token tried to write",
    "404": "no such record among those the token's user may see",
    "422": "the input is wrong; the message says what to send instead",
    "405": "the path does not take this method; the Allow header lists those it does",
    "429": "too many calls with this token; see Retry-After",
    "500": "an internal error: nothing was saved; the message gives a reference for an admin",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(route: Route) -> dict[str, Any]:
    if route.list_of:
        ok: dict[str, Any] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref(route.resource)},
                "next": _nullable("string", description="pass as `cursor` for the next page"),
            },
            "required": ["items", "next"],
            "additionalProperties": False,
        }
    else:
        ok = _ref(route.answer or route.resource)
    status = "201" if route.method == "POST" and route.operation != "moveDeal" else "200"
    responses: dict[str, Any] = {status: {"description": "OK", "content": _json(ok)}}
    if route.method == "DELETE":
        responses = {"204": {"description": "removed"}}
    if route.operation == "createInteraction":
        # The same idempotency key again answers the note already logged.
        responses["200"] = {"description": "already logged", "content": _json(ok)}
    errors = dict(_ERRORS)
    if route.body:
        errors["413"] = "the body is over 256 KiB (262,144 bytes)"
    for code, why in sorted(errors.items()):
        responses[code] = {"description": why, "content": _json(_ref("Error"))}
    op: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "tags": [route.resource],
        "responses": responses,
    }
    params: list[dict[str, Any]] = []
    if "{id}" in route.path:
        params.append({"name": "id", "in": "path", "required": True, "schema": _ID})
    # "status:ticket": the query parameter `status` with the ticket statuses' schema.
    params += [
        {"name": p.partition(":")[0], "in": "query", "schema": PARAMS[p]} for p in route.params
    ]
    if route.operation == "createInteraction":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "the same as the body's idempotency_key (one or the other, or "
                "both equal); refused on other writes, which take no key",
            }
        )
    if params:
        op["parameters"] = params
    if route.body:
        op["requestBody"] = {"required": True, "content": _json(_ref(route.body))}
    return op


def _head(get: dict[str, Any]) -> dict[str, Any]:
    """A GET's HEAD twin: the same statuses and headers, no body (RFC 9110 9.3.2)."""
    return {
        "operationId": f"{get['operationId']}Head",
        "summary": f"{get['summary']}: status and headers only",
        "tags": get["tags"],
        "responses": {
            code: {"description": answer["description"]}
            for code, answer in get["responses"].items()
        },
        **({"parameters": get["parameters"]} if "parameters" in get else {}),
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route (each GET with its HEAD)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation = _operation(route)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
        if route.method == "GET":
            paths[route.path]["head"] = _head(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crmbot REST API",
            "version": "1",
            "description": (
                "Every call acts as the personal token's user, with the same access rules and "
                "audit as chat. Create a token with `crmbot token create --as HANDLE "
                "[--scope read|write]` and send it as `Authorization: Bearer <token>`."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**RECORDS, **BODIES, "Error": ERROR},
        },
    }
