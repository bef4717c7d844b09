"""Sending to Slack: the Web API client, and a Reply delivered where the request came from."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.blocks import render
from handlers.i18n import Translator
from handlers.reply import Reply


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries dropped connections."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def api_error(exc: SlackApiError) -> str:
    """The Web API's error code (`channel_not_found`), or the HTTP status when there is none."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


def response_url(body: dict[str, Any]) -> str | None:
    """Where to answer a request (its response_url), if Slack gave one."""
    url = body.get("response_url")
    if isinstance(url, str) and url:
        return url
    urls = body.get("response_urls") or []
    return str(urls[0]["response_url"]) if urls and urls[0].get("response_url") else None


class Sender:
    """Replies out: to the request's response_url, else as a direct message."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def upload(self, image: bytes) -> str:
        """Upload a PNG privately and return its file id for an image block."""
        resp = await self.client.files_upload_v2(
            file=image, filename="crmbot.png", title="crmbot.png"
        )
        files = resp.get("files") or [resp.get("file") or {}]
        return str(files[0]["id"])

    async def deliver(
        self,
        reply: Reply,
        t: Translator,
        body: dict[str, Any],
        slack_id: str,
        *,
        share: dict[str, Any] | None = None,
        public: bool = False,
    ) -> None:
        """Send a reply where the request came from (response_url), else as a direct message."""
        if reply.status == "duplicate":
            return
        image_id = await self.upload(reply.image) if reply.image else None
        url = response_url(body)
        public = public or not reply.ephemeral
        for message in render(reply, t, share=None if public else share, image_file_id=image_id):
            if url:
                resp = await AsyncWebhookClient(url).send(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="in_channel" if public else "ephemeral",
                    replace_original=False,
                )
                if resp.status_code >= 400:
                    raise RuntimeError(f"response_url answered {resp.status_code}")
            else:
                await self.client.chat_postMessage(
                    channel=slack_id, text=message.text, blocks=message.blocks
                )
