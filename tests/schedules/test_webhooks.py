"""Outgoing webhooks delivered from the outbox to a receiver on 127.0.0.1 that fails, times
out and recovers: signed, retried with backoff, at least once with a stable event id."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from bot.serve import run_until
from crm_core.models import Webhook, WebhookDelivery
from schedules.webhooks import PostFailed, WebhookDispatcher, signature
from tests.conftest import FakeClock, Receiver, TestBot


def _secret(text: str) -> str:
    found = re.search(r"whsec_[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


def _dispatcher(testbot: TestBot, clock: FakeClock, **kw: Any) -> WebhookDispatcher:
    return WebhookDispatcher(testbot.session_factory, clock=clock, timeout=0.5, **kw)


async def test_fails_times_out_recovers_and_is_delivered_once_signed(
    testbot: TestBot, clock: FakeClock, receiver: Receiver
) -> None:
    """Two events ride out a 500 and a timeout, then arrive signed, with the same event id;
    the second waits behind the first (one webhook's events are posted in order)."""
    added = testbot("admin", f"webhook add {receiver.url} events deal.won, customer.created")
    assert added.status != "error", added.text
    secret = _secret(added.text)
    assert testbot("alice", "new customer Acme").status != "error"
    assert testbot("alice", "new deal Acme: Pilot 100").status != "error"
    assert testbot("alice", "move Pilot to lost").status == "error"  # refused: no reason given
    assert testbot("alice", "move Pilot to won").status != "error"
    owed = testbot.rows(select(WebhookDelivery.event, WebhookDelivery.status))
    assert sorted(owed) == [("customer.created", "pending"), ("deal.won", "pending")]

    dispatcher = _dispatcher(testbot, clock)
    receiver.mode = "fail"
    assert (await dispatcher.run_once()).retried == 1  # the second is not tried past the first
    listing = testbot("admin", "webhooks")
    assert "2 pending" in listing.items[0] and "HTTP 500" in listing.items[0]
    assert (await dispatcher.run_once()).retried == 0  # backing off: nothing is due yet
    assert len(receiver.got) == 1

    clock.advance(seconds=31)
    receiver.mode = "hang"
    assert (await dispatcher.run_once()).retried == 1
    assert "timeout" in testbot("admin", "webhooks").items[0]

    clock.advance(minutes=2, seconds=1)
    receiver.mode = "ok"
    stats = await dispatcher.run_once()
    assert stats.sent == 2
    clock.advance(hours=12)
    assert (await dispatcher.run_once()).sent == 0  # delivered: never again
    assert "2 sent, 0 pending, 0 failed" in testbot("admin", "webhooks").items[0]

    assert len(receiver.got) == 4
    assert [h["X-Crmbot-Event"] for h, _ in receiver.got] == ["customer.created"] * 3 + ["deal.won"]
    by_event: dict[str, list[tuple[dict[str, str], bytes]]] = {}
    for headers, body in receiver.got:
        by_event.setdefault(headers["X-Crmbot-Event-Id"], []).append((headers, body))
        stamp = int(headers["X-Crmbot-Timestamp"])
        expected = (
            "sha256="
            + hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        assert hmac.compare_digest(headers["X-Crmbot-Signature"], expected)
        assert headers["X-Crmbot-Signature"] == signature(secret, stamp, body)
        payload = json.loads(body)
        assert payload["id"] == headers["X-Crmbot-Event-Id"]
        assert payload["type"] == headers["X-Crmbot-Event"]
    assert sorted(len(v) for v in by_event.values()) == [1, 3]
    events = {json.loads(v[0][1])["type"]: json.loads(v[0][1])["data"] for v in by_event.values()}
    assert events["customer.created"]["name"] == "Acme"
    assert events["customer.created"]["owner"] == "alice"
    assert (events["deal.won"]["stage"], events["deal.won"]["from_stage"]) == ("won", "lead")
    assert events["deal.won"]["amount"] == "100.00"


async def test_gives_up_after_the_last_attempt(
    testbot: TestBot, clock: FakeClock, receiver: Receiver
) -> None:
    """After every attempt fails the delivery is failed, and `webhooks` says so."""
    testbot("admin", f"webhook add {receiver.url} events customer.created")
    testbot("alice", "new customer Acme")
    dispatcher = _dispatcher(testbot, clock, backoff=(timedelta(seconds=5),))
    receiver.mode = "fail"
    assert (await dispatcher.run_once()).retried == 1
    clock.advance(seconds=6)
    assert (await dispatcher.run_once()).failed == 1
    clock.advance(hours=1)
    assert (await dispatcher.run_once()).failed == 0
    assert "0 sent, 0 pending, 1 failed" in testbot("admin", "webhooks").items[0]


async def test_a_claim_is_held_by_one_worker_until_its_lease_ends(
    testbot: TestBot, clock: FakeClock, receiver: Receiver
) -> None:
    """Two workers never hold one delivery; a dead worker's claim passes on after the lease."""
    testbot("admin", f"webhook add {receiver.url} events customer.created")
    for name in ("Acme", "Globex", "Initech"):
        testbot("alice", f"new customer {name}")
    first, second = _dispatcher(testbot, clock), _dispatcher(testbot, clock)
    held = first.claim()
    assert len(held) == 3
    assert second.claim() == []
    clock.advance(minutes=3)  # the first worker died holding them: the lease runs out
    again = second.claim()
    assert sorted(o.event_id for o in again) == sorted(o.event_id for o in held)
    assert all(not first.mark_sent(o) for o in held)  # the old claim is gone
    assert all(second.mark_sent(o) for o in again)


async def test_serves_scheduler_posts_owed_events(
    crm_app: App, testbot: TestBot, receiver: Receiver
) -> None:
    """`crmbot serve`'s scheduler runs the webhook job: an owed event arrives by itself."""
    testbot("admin", f"webhook add {receiver.url} events customer.created")
    testbot("alice", "new customer Acme")
    stop = asyncio.Event()
    task = asyncio.create_task(run_until(crm_app, ("scheduler",), stop))
    try:
        for _ in range(200):
            if receiver.got:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert [h["X-Crmbot-Event"] for h, _ in receiver.got] == ["customer.created"]
    assert testbot.rows(select(WebhookDelivery.status)) == [("sent",)]


class Network:
    """A fake `post`: the older a post in a burst, the slower it travels; records arrivals."""

    def __init__(self) -> None:
        self.arrived: list[tuple[str, dict[str, Any]]] = []
        self.started = 0
        # url -> how many of its next posts fail with HTTP 500
        self.failing: dict[str, int] = {}

    async def __call__(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> None:
        self.started += 1
        # Posts sent at once arrive newest first (as a slow connection set-up can make them).
        await asyncio.sleep(0.2 / self.started)
        self.arrived.append((url, json.loads(body)))
        if self.failing.get(url, 0) > 0:
            self.failing[url] -= 1
            raise PostFailed("HTTP 500")

    def at(self, url: str) -> list[str]:
        """The event ids that arrived at `url`, in arrival order."""
        return [body["id"] for u, body in self.arrived if u == url]


def _owed(testbot: TestBot, hook_url: str) -> list[str]:
    return [
        str(e)
        for (e,) in testbot.rows(
            select(WebhookDelivery.event_id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(Webhook.url == hook_url)
            .order_by(WebhookDelivery.id)
        )
    ]


async def test_one_deals_events_reach_the_receiver_in_event_order(
    testbot: TestBot, clock: FakeClock
) -> None:
    """A deal created and moved to won: its events arrive in the order they happened, even
    when the network would deliver a burst sent at once newest first."""
    url = "http://127.0.0.1:9/order"
    testbot("admin", f"webhook add {url} events deal.created, deal.moved, deal.won")
    testbot("alice", "new customer Acme")
    assert testbot("alice", "new deal Acme: Pilot 100").status != "error"
    for stage in ("qualified", "proposal", "negotiation", "won"):
        assert testbot("alice", f"move Pilot to {stage}").status != "error"
    net = Network()
    stats = await _dispatcher(testbot, clock, post=net).run_once()
    owed = _owed(testbot, url)
    assert stats.sent == len(owed) >= 6
    assert net.at(url) == owed
    kinds = [(b["type"], b["data"]["stage"]) for _, b in net.arrived]
    assert kinds[0] == ("deal.created", "lead") and kinds[-1] == ("deal.won", "won")


async def test_a_failing_event_holds_back_its_webhooks_later_events_not_others(
    testbot: TestBot, clock: FakeClock
) -> None:
    """The first event to one receiver fails: that receiver's later events wait (untried, no
    attempt counted) until it is delivered; another receiver gets all of its events meanwhile."""
    slow, fine = "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"
    testbot("admin", f"webhook add {slow} events customer.created")
    testbot("admin", f"webhook add {fine} events customer.created")
    for name in ("Acme", "Globex", "Initech"):
        testbot("alice", f"new customer {name}")
    net = Network()
    net.failing[slow] = 1
    dispatcher = _dispatcher(testbot, clock, post=net)
    stats = await dispatcher.run_once()
    assert (stats.sent, stats.retried) == (3, 1)
    assert net.at(fine) == _owed(testbot, fine)
    first = _owed(testbot, slow)[0]
    assert net.at(slow) == [first]
    attempts = testbot.rows(
        select(WebhookDelivery.attempts, WebhookDelivery.status)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(Webhook.url == slow)
        .order_by(WebhookDelivery.id)
    )
    assert attempts == [(1, "pending"), (0, "pending"), (0, "pending")]
    assert (await dispatcher.run_once()).sent == 0  # the first backs off: the rest wait
    clock.advance(seconds=31)
    assert (await dispatcher.run_once()).sent == 3
    assert net.at(slow) == [first, *_owed(testbot, slow)]


async def test_event_data_is_the_rest_representation_with_the_actor_and_z_times(
    testbot: TestBot, clock: FakeClock
) -> None:
    """A `deal.won` and a `customer.created` carry what GET /deals/{id} and GET
    /customers/{id} show (close date, closed and created times, custom values), who made the
    change, and times written as the API writes them (`Z`)."""
    from crm_core.models import Customer, Deal, User
    from handlers.rest import customer_json, deal_json

    url = "http://127.0.0.1:9/data"
    testbot("admin", f"webhook add {url} events customer.created, deal.won")
    testbot("alice", "new customer Acme")
    assert testbot("alice", "new deal Acme: Pilot 100").status != "error"
    assert testbot("alice", "move Pilot to won").status != "error"
    net = Network()
    assert (await _dispatcher(testbot, clock, post=net).run_once()).sent == 2
    (_, created), (_, won) = net.arrived
    with testbot.session_factory() as s:
        user = s.get(User, testbot.users["alice"])
        assert user is not None
        ctx = testbot.dispatcher.context(s, user, clock=clock)
        deal = s.scalars(select(Deal)).one()
        customer = s.scalars(select(Customer)).one()
        want_deal, want_customer = deal_json(ctx, deal), customer_json(ctx, customer)
    assert {k: won["data"][k] for k in want_deal} == want_deal
    assert won["data"]["customer"] == "Acme" and won["data"]["from_stage"] == "lead"
    assert won["data"]["closed_at"].endswith("Z") and won["created_at"].endswith("Z")
    assert created["data"] == want_customer
    assert won["actor"] == created["actor"] == "alice"
