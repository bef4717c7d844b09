"""The `link code for alice` verb: admins only, audited, usable once by /link."""

from __future__ import annotations

import re

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, LinkCode
from crm_core.services.link_codes import redeem_link_code
from tests.conftest import TestBot


def test_admin_gets_a_code_that_links_once(testbot: TestBot) -> None:
    """The reply holds the code and how to use it; the code is stored hashed and audited."""
    reply = testbot("admin", "link code for alice")
    assert reply.status == "ok"
    code = re.search(r": ([A-Z0-9]{8})\n", reply.text)
    assert code and f"/link {code.group(1)}" in reply.text
    assert code.group(1) not in str(testbot.query(select(LinkCode.code_hash)))
    actions = testbot.query(select(AuditEntry.action))
    assert "link_code.create" in actions
    with unit_of_work(testbot.session_factory) as session:
        now = testbot.dispatcher.clock()
        user = redeem_link_code(session, "telegram", "42", code.group(1), now=now)
        assert user.external_id == "alice"


def test_chinese_alias_and_usage(testbot: TestBot) -> None:
    """`绑定码 alice` works; no person names what to type; a rep is refused."""
    assert testbot("admin", "绑定码 alice").status == "ok"
    assert "link code for alice" in testbot("admin", "link code").text
    refused = testbot("alice", "link code for carol")
    assert refused.status == "error" and "Only an admin" in refused.text
    assert testbot.count(LinkCode) == 1
