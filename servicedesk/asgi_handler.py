"""Django's ASGI handler with the middleware chain and the view run in one hop to a thread.

Every middleware here and every view is synchronous. Django's own handler builds an async chain
around them: it hops to a thread for the outer middleware, back to the event loop for the inner
request handling, and to a thread again for the view, each hop a hand-over between threads. Built
as a synchronous chain and called once through `sync_to_async`, a request does the same work in
one hop; the request and response handling around it (body, signals, streaming) stay Django's.
"""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers import asgi


class ASGIHandler(asgi.ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
