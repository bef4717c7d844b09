"""The aiohttp request class PTB sends through: the Bot API's wire format, timeouts, errors."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.aiohttp_request import AiohttpRequest


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A Bot API stand-in on 127.0.0.1 noting each request's form fields and files."""
    seen: list[dict[str, Any]] = []

    async def method(request: web.Request) -> web.Response:
        if request.match_info["name"] == "slow":
            await asyncio.sleep(2)
        form = await request.post()
        got: dict[str, Any] = {"content_type": request.content_type, "ua": request.headers}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                got[key] = (value.filename, value.file.read(), value.content_type)
            else:
                got[key] = value
        seen.append(got)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{name}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot1:T", seen
    await runner.cleanup()


def _data(**values: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def test_parameters_go_form_encoded_as_json_values(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    """sendMessage's parameters arrive as a form, each value JSON-encoded as PTB does."""
    base, seen = server
    async with AiohttpRequest(4) as request:
        status, body = await request.do_request(
            f"{base}/sendMessage",
            "POST",
            _data(chat_id=42, text="héllo & <b>", reply_markup={"inline_keyboard": []}),
        )
    assert status == 200 and json.loads(body)["ok"] is True
    (got,) = seen
    assert got["content_type"] == "application/x-www-form-urlencoded"
    assert got["chat_id"] == "42"
    assert got["text"] == "héllo & <b>"
    assert json.loads(got["reply_markup"]) == {"inline_keyboard": []}
    assert got["ua"]["User-Agent"] == AiohttpRequest.USER_AGENT


async def test_a_file_goes_multipart_with_its_name_and_type(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    """sendPhoto with a PNG: multipart, the file under its field with its name and type."""
    base, seen = server
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    async with AiohttpRequest(4) as request:
        status, _ = await request.do_request(
            f"{base}/sendPhoto",
            "POST",
            _data(chat_id=7, caption="chart", photo=InputFile(png, filename="chart.png")),
        )
    assert status == 200
    (got,) = seen
    assert got["content_type"] == "multipart/form-data"
    assert got["chat_id"] == "7" and got["caption"] == "chart"
    files = [v for v in got.values() if isinstance(v, tuple)]
    assert files == [("chart.png", png, "image/png")]


async def test_a_slow_answer_is_a_timeout_and_a_closed_port_a_network_error(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    """PTB's errors: TimedOut past the read timeout, NetworkError when nobody listens."""
    base, _ = server
    async with AiohttpRequest(2, read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{base}/slow", "POST", _data(chat_id=1))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{closed}/bot1:T/x", "POST", None)


async def test_a_request_before_initialize_or_after_shutdown_is_refused() -> None:
    """Like HTTPXRequest: no session, no request."""
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/x", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/x", "POST")
