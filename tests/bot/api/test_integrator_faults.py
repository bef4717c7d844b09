"""What an integrator's sync job meets: near duplicates, retries, filters, handovers (rev12)."""

from __future__ import annotations

import pytest

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
