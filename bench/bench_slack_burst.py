"""A burst of Slack replies through the adapter's response_url session, per connection cap.

Sends N replies at once through `Sender.deliver` (the adapter's own path: Block Kit rendering,
slack_sdk's webhook client, the shared aiohttp session of `http_session`) to the fake Slack of
the tests on 127.0.0.1, which holds each response_url post for --delay seconds (Slack's
answer time). For each cap (CRMBOT_SLACK_HTTP_CONNECTIONS) it prints how long until the last
reply arrived, the most posts the fake was answering at once, the connections opened, and how
many replies fell back to a direct message (none should).

    .venv/bin/python bench/bench_slack_burst.py --replies 400 --delay 0.2 --caps 100,256,400
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.slack.sending import RESPOND_SECONDS, Sender, http_session, web_client  # noqa: E402
from handlers.i18n import Translator  # noqa: E402
from handlers.reply import Reply  # noqa: E402
from tests.bot.slack.conftest import FakeSlack  # noqa: E402


async def burst(replies: int, delay: float, cap: int) -> tuple[float, int, int, int]:
    """(seconds to the last arrival, most at once, connections, direct messages) for one cap."""
    fake = FakeSlack()
    await fake.start()
    fake.delays["response"] = delay
    client = web_client("xoxb-bench", fake.api_url)
    client.session = http_session(client.timeout, cap)
    sender = Sender(client)
    sender.session = http_session(RESPOND_SECONDS, cap)
    t = Translator("en")
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                sender.deliver(
                    Reply(text=f"Acme Logistics #{i}: 3 open deals"),
                    t,
                    {"response_url": fake.response_url()},
                    "UALICE",
                )
                for i in range(replies)
            )
        )
        took = time.perf_counter() - started
        arrived = len(fake.named("response"))
        assert arrived == replies, (arrived, replies)
        return (
            took,
            fake.most_responding,
            len(fake.response_ports),
            len(fake.named("chat.postMessage")),
        )
    finally:
        await sender.session.close()
        await client.session.close()
        await fake.stop()


async def main() -> None:
    """Each cap in turn; a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replies", type=int, default=400)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds Slack takes to answer")
    ap.add_argument("--caps", default="100,256,400")
    args = ap.parse_args()
    print(f"{args.replies} replies at once, each answered after {args.delay} s\n")
    print("| connections cap | all arrived after s | most at once | connections | DMs |")
    print("|---:|---:|---:|---:|---:|")
    for cap in (int(c) for c in args.caps.split(",")):
        took, most, ports, dms = await burst(args.replies, args.delay, cap)
        print(f"| {cap} | {took:.2f} | {most} | {ports} | {dms} |")


if __name__ == "__main__":
    asyncio.run(main())
