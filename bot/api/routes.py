"""The REST API's HTTP side: bearer tokens, rate limits, JSON in and out, status codes.

Only translation: every answer comes from handlers.rest, which calls the chat verbs' services.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.api.openapi import PREFIX, ROUTES, Route, document
from bot.api.ratelimit import RateLimiter
from bot.metrics import Metrics
from handlers.i18n import client_locale
from handlers.rest import ApiError, Call, Caller, RestApi

log = logging.getLogger(__name__)

STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "too_large": 413,
    "invalid": 422,
    "rate_limited": 429,
    "internal": 500,
}
# Bodies are small records; a note is at most 20,000 characters.
MAX_BODY = 256 * 1024
API_KEY: web.AppKey[RestApi] = web.AppKey("rest_api", RestApi)
LIMITER_KEY: web.AppKey[RateLimiter] = web.AppKey("rate_limiter", RateLimiter)
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)


def error_response(
    error: ApiError, headers: dict[str, str] | None = None, *, locale: str = "en"
) -> web.Response:
    """The one error shape, with the status its code stands for and the message's language."""
    return web.json_response(
        error.body(),
        status=STATUS[error.code],
        headers={**(headers or {}), "Content-Language": locale},
    )


def asked_locale(request: web.Request) -> str | None:
    """The language the client asks for (Accept-Language, by its q weights) as one of ours
    (`zh-TW` is zh-Hant, anything unknown English); None when it sends none.

    API clients are programs that branch on `code`; the message is for the person reading
    their logs or screens, so the HTTP way to choose its language wins over the token user's.
    """
    header = request.headers.get("Accept-Language", "").strip()
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, i, tag))
    return client_locale(min(ranked)[2]) if ranked else None


@web.middleware
async def counted(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count each answer by route and status (the outermost middleware: refusals too)."""
    response = await handler(request)
    metrics = request.app.get(METRICS_KEY)
    if metrics is not None:
        route = request.match_info.route.name or "unmatched"
        metrics.api_call(route, response.status)
    return response


@web.middleware
async def error_shape(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Routing refusals (unknown path, wrong method, huge body) in the API's error shape, in
    the language the client asks for (no user is known yet)."""
    api = request.app[API_KEY]
    lang = asked_locale(request) or "en"
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        return error_response(
            api.refusal(
                "method_not_allowed", "api.method_not_allowed", locale=lang, method=exc.method
            ),
            headers={"Allow": ", ".join(sorted(exc.allowed_methods))},
            locale=lang,
        )
    except web.HTTPRequestEntityTooLarge:
        return error_response(
            api.refusal("too_large", "api.too_large", locale=lang, limit=MAX_BODY), locale=lang
        )
    except web.HTTPNotFound:
        return error_response(api.refusal("not_found", "api.no_route", locale=lang), locale=lang)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _record_id(request: web.Request, api: RestApi, lang: str) -> int | None:
    raw = request.match_info.get("id")
    if raw is None:
        return None
    # The route admits digits only; a number no record can have is simply not found.
    number = int(raw)
    if not 1 <= number <= 2**63 - 1:
        raise api.refusal("not_found", "api.no_record", locale=lang, id=raw[:20])
    return number


def _query(request: web.Request, route: Route, api: RestApi, lang: str) -> dict[str, str]:
    """The query, refused when it names a parameter the operation does not take: a misspelled
    filter ignored would widen the answer to the whole book without a word."""
    allowed = [p.partition(":")[0] for p in route.params]
    for name in request.query:
        if name not in allowed:
            if not allowed:
                raise api.refusal("invalid", "api.param_none", locale=lang, param=name[:40])
            raise api.refusal(
                "invalid",
                "api.param_unknown",
                locale=lang,
                param=name[:40],
                params=", ".join(allowed),
            )
    return dict(request.query)


def _with_key(request: web.Request, route: Route, body: Any, api: RestApi, lang: str) -> Any:
    """The body with the `Idempotency-Key` header (the IETF draft's) as its `idempotency_key`.

    Only logging a note takes a key; on another write the header is refused rather than
    ignored, so a client never believes a retry is safe when it is not.
    """
    header = request.headers.get("Idempotency-Key")
    if header is None or route.method in ("GET", "HEAD"):
        return body
    # The draft's value is a structured-field string: "abc" (quoted); a bare abc is taken too.
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if route.operation != "createInteraction":
        raise api.refusal("invalid", "api.idempotency_header_unsupported", locale=lang)
    if not isinstance(body, dict):
        return body
    sent = body.get("idempotency_key")
    if sent is not None and sent != key:
        raise api.refusal("invalid", "api.idempotency_key_twice", locale=lang)
    return {**body, "idempotency_key": key}


async def _read_limited(request: web.Request, api: RestApi, lang: str) -> bytes:
    """The body, refused beyond MAX_BODY whatever the server's own limit (client_max_size is
    the root app's, 1 MiB, not this sub-app's) and whether a length was sent or not."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise api.refusal("too_large", "api.too_large", locale=lang, limit=MAX_BODY)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise api.refusal("too_large", "api.too_large", locale=lang, limit=MAX_BODY)
        parts.append(chunk)
    return b"".join(parts)


async def _body(request: web.Request, api: RestApi, lang: str) -> Any:
    if not request.can_read_body:
        return None
    raw = await _read_limited(request, api, lang)
    if not raw:
        return None

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        # NaN and Infinity are not JSON; Python would take them.
        return json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise api.refusal("invalid", "api.body_not_json", locale=lang) from None


def _handler(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        api = request.app[API_KEY]
        asked = asked_locale(request)
        lang = asked or "en"
        try:
            token = _bearer(request)
            caller: Caller | None = (
                await asyncio.to_thread(api.authenticate, token) if token else None
            )
            if caller is None:
                raise api.refusal("unauthorized", "api.unauthorized", locale=lang)
            # From here the token user's language, unless the client asked for one.
            lang = asked or caller.locale
            wait = request.app[LIMITER_KEY].take(caller.token_id)
            if wait:
                seconds = RateLimiter.retry_after(wait)
                return error_response(
                    api.refusal("rate_limited", "api.rate_limited", locale=lang, seconds=seconds),
                    headers={"Retry-After": str(seconds)},
                    locale=lang,
                )
            body = await _body(request, api, lang) if route.body else None
            call = Call(
                record_id=_record_id(request, api, lang),
                query=_query(request, route, api, lang),
                body=_with_key(request, route, body, api, lang),
            )
            answer = await asyncio.to_thread(api.run, caller, route.operation, call, locale=asked)
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.code == "unauthorized" else None
            return error_response(exc, headers, locale=lang)
        except Exception:
            ref = secrets.token_hex(4)
            # The operation only: paths, queries and bodies may hold customer data or tokens.
            log.exception("api call failed (ref %s, %s)", ref, route.operation, extra={"ref": ref})
            return error_response(
                api.refusal("internal", "error.internal", locale=lang, ref=ref), locale=lang
            )
        if answer.empty:
            return web.Response(status=204)
        return web.json_response(answer.body, status=201 if answer.created else 200)

    return handle


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_KEY])


OPENAPI_KEY: web.AppKey[dict[str, Any]] = web.AppKey("openapi", dict)


def api_app(api: RestApi, limiter: RateLimiter, metrics: Metrics | None = None) -> web.Application:
    """The /api/v1 sub-application: every route of the OpenAPI document, and the document."""
    sub = web.Application(middlewares=[counted, error_shape], client_max_size=MAX_BODY)
    sub[API_KEY] = api
    sub[LIMITER_KEY] = limiter
    if metrics is not None:
        sub[METRICS_KEY] = metrics
    sub[OPENAPI_KEY] = document()
    sub.router.add_get("/openapi.json", _openapi, name="openapi")
    for route in ROUTES:
        # Digits only: `/customers/abc` is no route (404), never a 500 from int().
        path = route.path.replace("{id}", r"{id:\d{1,19}}")
        if route.method == "GET":
            # HEAD answers a GET's status and headers without its body (RFC 9110 9.3.2), so a
            # client may check a record or a list without reading it.
            sub.router.add_get(path, _handler(route), name=route.operation, allow_head=True)
        else:
            sub.router.add_route(route.method, path, _handler(route), name=route.operation)
    return sub


def mount(
    web_app: web.Application, api: RestApi, limiter: RateLimiter, metrics: Metrics | None = None
) -> None:
    """Add /api/v1 to the shared HTTP server (its calls counted in `metrics` when given)."""
    web_app.add_subapp(PREFIX, api_app(api, limiter, metrics))
