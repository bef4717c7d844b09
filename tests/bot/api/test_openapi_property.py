"""Property-based API test: requests generated from /api/v1/openapi.json against a live server.

No generated request may get a 5xx, and every answer must match what the document promises for
its status (the record schemas, the list shape, the one error shape).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from handlers.rest import encode_cursor
from tests.bot.api.conftest import ApiServer

# Words the server gives meaning to: stage names, handles, kinds, statuses, a customer's name.
VOCABULARY = [
    "lead", "qualified", "proposal", "negotiation", "won", "lost", "alice", "bob", "dave",
    "admin", "nobody", "call", "note", "done", "cancelled", "pending", "Acme", "EUR", "",
    "2026-12-01", "2026-11-24T09:00:00Z", "May 3", "a@b.example", "+1 555 010 2000",
    "urgent", "high", "open", "waiting", "resolved", "closed", "me", "carol", "customer",
]  # fmt: skip
# Custom field values: declared names with good and bad values (see the `seeded` fixture).
CUSTOM = st.dictionaries(
    st.sampled_from(["region", "seats", "vip", "renewal", "nothing"]),
    st.sampled_from(["North", "south", "East", "1,200", "x", "2027-01-15", "yes", ""])
    | st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False),
    max_size=3,
)
ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


class Strategies:
    """Hypothesis strategies for the JSON Schema subset the document uses."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow a local $ref."""
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def of(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        """Values that (mostly) satisfy `schema`, with the server's words mixed in."""
        schema = self.resolve(schema)
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if isinstance(kind, list):
            return st.one_of([self.of({**schema, "type": k}) for k in kind])
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            low, high = schema.get("minimum", -(2**63)), schema.get("maximum", 2**63 - 1)
            # Mostly ids that exist (the seeded records), sometimes any id at all.
            small = st.integers(max(low, 1), min(high, 6))
            return small | small | st.integers(low, high)
        if kind == "number":
            return st.integers(-10, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
        if kind == "array":
            return st.lists(self.of(schema.get("items", {})), max_size=4)
        if kind == "object":
            if "additionalProperties" in schema and "properties" not in schema:
                return CUSTOM
            props = schema.get("properties", {})
            required = schema.get("required", [])
            return st.fixed_dictionaries(
                {k: self.of(props[k]) for k in required},
                optional={k: self.of(v) for k, v in props.items() if k not in required},
            )
        fmt = schema.get("format")
        text = st.text(max_size=min(schema.get("maxLength", 40), 40))
        if fmt == "date":
            return st.dates(date(1960, 1, 1), date(2110, 1, 1)).map(date.isoformat) | text
        if fmt == "date-time":
            moments = st.datetimes(
                datetime(1960, 1, 1), datetime(2110, 1, 1), timezones=st.sampled_from(ZONES)
            )
            # Soon after the test clock's now, or anywhere (past, far future, not a time).
            soon = st.sampled_from(["2026-11-24T09:00:00Z", "2026-12-01T09:00:00+08:00"])
            return soon | moments.map(datetime.isoformat) | text
        return st.sampled_from(VOCABULARY) | text


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request(
    doc: dict[str, Any], only: str | None = None
) -> st.SearchStrategy[tuple[str, str, str, dict[str, str], Any, bool]]:
    """(operation, method, path, query, body, has_body) drawn from every documented operation
    (or only the one named)."""
    make = Strategies(doc)
    options = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if only is not None and op["operationId"] != only:
                continue
            params = op.get("parameters", [])
            path_ids = [p for p in params if p["in"] == "path"]
            query = {p["name"]: p["schema"] for p in params if p["in"] == "query"}
            cursor = st.integers(0, 40).map(encode_cursor) | st.text(max_size=12)
            query_values = st.fixed_dictionaries(
                {},
                optional={
                    name: (cursor if name == "cursor" else make.of(schema)).map(_query_value)
                    for name, schema in query.items()
                },
            )
            ids = make.of(path_ids[0]["schema"]) if path_ids else st.just(0)
            body_schema = op.get("requestBody", {}).get("content", {}).get("application/json")
            body = make.of(body_schema["schema"]) | JSON_VALUES if body_schema else st.just(None)
            options.append(
                st.tuples(
                    st.just(op["operationId"]),
                    st.just(method.upper()),
                    ids.map(lambda i, p=path: p.replace("{id}", str(i))),
                    query_values,
                    body,
                    st.just(body_schema is not None),
                )
            )
    return st.one_of(options)


@pytest.fixture
def seeded(api: ApiServer) -> dict[str, str]:
    """A few records of every kind in two books, and tokens of each role and scope."""
    tokens = {
        "alice": api.token("alice"),
        "alice_read": api.token("alice", scope="read"),
        "bob": api.token("bob"),
        "dave": api.token("dave"),
        "admin": api.token("admin"),
    }
    for who, name in (("alice", "Acme"), ("dave", "Westco"), ("bob", "Eastwind")):
        customer = api.call("POST", "/customers", tokens[who], {"name": name}).json()
        cid = customer["id"]
        api.call("POST", "/contacts", tokens[who], {"customer_id": cid, "name": f"{name} Buyer"})
        api.call("POST", "/deals", tokens[who], {"customer_id": cid, "title": f"{name} pilot"})
        api.call(
            "POST", "/interactions", tokens[who], {"customer_id": cid, "kind": "call", "text": "hi"}
        )
        api.call(
            "POST",
            "/reminders",
            tokens[who],
            {"text": "follow up", "due_at": "2026-12-01T09:00:00Z", "customer_id": cid},
        )
        api.call("POST", "/tickets", tokens[who], {"customer_id": cid, "subject": f"{name} jam"})
    for line in (
        "field add customer region choice North, South",
        "field add customer seats number",
        "field add contact vip yesno",
        "field add deal renewal date",
    ):
        assert api.testbot("admin", line).status != "error", line
    return tokens


def test_generated_requests_get_no_5xx_and_answers_match_the_document(
    api: ApiServer, seeded: dict[str, str]
) -> None:
    """Every documented operation, with generated ids, filters and bodies, as every role."""
    doc = api.call("GET", "/openapi.json", None).json()
    registry: Registry[Any] = Registry().with_resource(
        "urn:crmbot-openapi", Resource(contents=doc, specification=DRAFT202012)
    )
    checker = FormatChecker()
    seen: dict[str, set[int]] = {}

    def run(
        requests: st.SearchStrategy[tuple[str, str, str, dict[str, str], Any, bool]],
        examples: int,
    ) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            database=None,
        )
        @given(request=requests, who=st.sampled_from(sorted(seeded)))
        def check(request: tuple[str, str, str, dict[str, str], Any, bool], who: str) -> None:
            operation, method, path, query, body, has_body = request
            answer = api.call(method, path, seeded[who], body if has_body else None, params=query)
            assert answer.status_code < 500, (operation, path, query, body, answer.text)
            status = str(answer.status_code)
            op = doc["paths"][re.sub(r"/\d+", "/{id}", path, count=1)][method.lower()]
            assert status in op["responses"], (operation, status, answer.text)
            if method == "HEAD" or "content" not in op["responses"][status]:
                # A HEAD answer has the GET's status and no body; so has a removal's 204.
                assert answer.content == b"", (operation, answer.content)
                seen.setdefault(operation, set()).add(answer.status_code)
                return
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            if "$ref" in schema:
                schema = {"$ref": "urn:crmbot-openapi" + schema["$ref"]}
            else:
                schema = _absolute(schema)
            validator = Draft202012Validator(schema, registry=registry, format_checker=checker)
            errors = [e.message for e in validator.iter_errors(answer.json())]
            assert not errors, (operation, status, errors, answer.text)
            seen.setdefault(operation, set()).add(answer.status_code)

        check()

    run(_request(doc), 400)
    # one_of is no round robin: an operation the draws missed gets draws of its own, so every
    # documented operation is always tried (a full-suite run here once missed one).
    operations = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
    for missed in sorted(operations - set(seen)):
        run(_request(doc, only=missed), 10)
    # Every operation was tried, and the generator reached past input checks to real answers.
    assert set(seen) == operations
    succeeded = {op for op, codes in seen.items() if any(c < 300 for c in codes)}
    assert len(succeeded) >= 20, seen


def _absolute(schema: Any) -> Any:
    """`schema` with its local $refs pointed at the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:crmbot-openapi" + v if k == "$ref" else _absolute(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema
