"""HEAD on every GET route, 405 in the document, and error messages in the caller's language."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.db import unit_of_work
from crm_core.models import User
from tests.bot.api.conftest import ApiServer


def _headers(token: str | None, language: str | None = None) -> dict[str, str]:
    out = {"Authorization": f"Bearer {token}"} if token else {}
    if language:
        out["Accept-Language"] = language
    return out


@pytest.fixture
def acme(api: ApiServer) -> dict[str, Any]:
    """alice's token and her customer Acme."""
    token = api.token("alice")
    made = api.call("POST", "/customers", token, {"name": "Acme"})
    assert made.status_code == 201, made.text
    return {"token": token, "id": made.json()["id"]}


def test_head_answers_a_gets_status_without_a_body(api: ApiServer, acme: dict[str, Any]) -> None:
    """HEAD /customers/{id}: 200 and no body; another id 404; no token 401; both documented."""
    url = f"{api.url}/api/v1/customers"
    found = api.client.head(f"{url}/{acme['id']}", headers=_headers(acme["token"]))
    assert (found.status_code, found.content) == (200, b"")
    assert found.headers["Content-Type"].startswith("application/json")
    assert api.client.head(f"{url}/999999", headers=_headers(acme["token"])).status_code == 404
    assert api.client.head(url, headers=_headers(None)).status_code == 401
    doc = api.call("GET", "/openapi.json", None).json()
    head = doc["paths"]["/customers/{id}"]["head"]
    assert head["operationId"] == "getCustomerHead"
    assert {"200", "401", "404", "405"} <= set(head["responses"])
    assert "405" in doc["paths"]["/customers"]["post"]["responses"]
    assert "413" in doc["paths"]["/customers"]["post"]["responses"]


def test_errors_in_the_callers_language(api: ApiServer, acme: dict[str, Any]) -> None:
    """A zh-Hant token user's refusals are Traditional, body-not-JSON included; Accept-Language
    wins over the user's; refusals before any token follow Accept-Language, else English."""
    with unit_of_work(api.testbot.session_factory) as session:
        user = session.get(User, api.testbot.users["alice"])
        assert user is not None
        user.locale = "zh-Hant"
    token = acme["token"]
    url = f"{api.url}/api/v1/customers"
    missing = api.client.get(f"{url}/999999", headers=_headers(token))
    assert missing.status_code == 404 and missing.headers["Content-Language"] == "zh-Hant"
    assert "客戶" in missing.json()["error"]["message"], missing.text
    garbled = api.client.post(url, headers=_headers(token), content=b"{not json")
    assert garbled.status_code == 422 and garbled.headers["Content-Language"] == "zh-Hant"
    assert "請求體不是 JSON" in garbled.json()["error"]["message"], garbled.text
    english = api.client.get(f"{url}/999999", headers=_headers(token, "en-US,en;q=0.9"))
    assert english.headers["Content-Language"] == "en"
    assert english.json()["error"]["message"].isascii(), english.text
    wrong = api.client.delete(f"{url}/{acme['id']}", headers=_headers(token, "zh-CN"))
    assert wrong.status_code == 405 and wrong.headers["Content-Language"] == "zh"
    nobody = api.client.get(url)
    assert nobody.status_code == 401 and nobody.headers["Content-Language"] == "en"
