"""ASGI middleware: a request whose body stalls or trickles is answered 408 and its worker freed.

uvicorn has no request-body read timeout (only --timeout-keep-alive between requests), and Django's
ASGI handler reads the whole body before the view runs, so a client sending one byte every few
seconds held a request open for as long as it liked. Two limits, read from settings per request:

- REQUEST_BODY_TIMEOUT_SECONDS (default 30): no new body bytes for this long -> 408.
- REQUEST_BODY_MIN_BYTES_PER_SECOND (default 1024): once the body has taken longer than the timeout,
  it must have averaged at least this rate -> otherwise 408 (1 byte every 5 s fails after ~30 s; a
  2 GiB upload at 1 KiB/s would still pass).

The app is told the client went away (`http.disconnect`, which Django turns into RequestAborted and
no response); this middleware then sends the 408 itself, with `Connection: close`. Reverse proxies
in front apply their own limits first (docs/DEPLOY.md: client_body_timeout).
"""

import asyncio
import json
import time

from django.conf import settings

_BODY = json.dumps(
    {
        "code": "request_body_timeout",
        "detail": "The request body arrived too slowly; send it again on a faster connection.",
    }
).encode()


class RequestBodyTimeoutMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        timeout = getattr(settings, "REQUEST_BODY_TIMEOUT_SECONDS", 0)
        if scope["type"] != "http" or not timeout:
            return await self.app(scope, receive, send)
        min_rate = getattr(settings, "REQUEST_BODY_MIN_BYTES_PER_SECOND", 0)
        started = time.monotonic()
        state = {"received": 0, "body_done": False, "timed_out": False, "response_started": False}

        async def guarded_receive():
            if state["body_done"] or state["timed_out"]:
                return await receive()  # waiting for a disconnect after the body: no limit
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                state["timed_out"] = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request":
                return message
            state["received"] += len(message.get("body", b""))
            if not message.get("more_body", False):
                state["body_done"] = True
                return message
            elapsed = time.monotonic() - started
            if min_rate and elapsed > timeout and state["received"] < min_rate * elapsed:
                state["timed_out"] = True
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if state["timed_out"] and not state["response_started"]:
                return  # the app answers nothing after an abort; the 408 below is the answer
            if message["type"] == "http.response.start":
                state["response_started"] = True
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)
        if state["timed_out"] and not state["response_started"]:
            await send(
                {
                    "type": "http.response.start",
                    "status": 408,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BODY)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
