"""Django's ASGI handler, with each HTTP request's synchronous work in one hop to a reused thread.

Every middleware here and every view is synchronous. Django's own handler:
- builds an async chain around them: it hops to a thread for the outer middleware, back to the
  event loop for the inner request handling, and to a thread again for the view. Built as a
  synchronous chain and called once through `sync_to_async`, a request does the same work in one
  hop;
- starts a thread for every request (asgiref's per-request context) and, when the request ends,
  joins it on the event loop, which stalls every socket of the process meanwhile. Here a request
  borrows a one-thread executor from a small free list and gives it back (asgiref's
  `ThreadSensitiveContext(executor=...)`), as a WSGI server's worker threads serve one request
  after another. Django closes or returns the request's database connection on its thread when
  the request finishes, so nothing of one request is left for the next.

The request and response handling around it (body, signals, streaming, disconnects) is Django's.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import asgi

# Idle threads kept per process; a burst beyond this starts threads that end after their request.
IDLE_THREADS = 64


class ASGIHandler(asgi.ASGIHandler):
    def __init__(self):
        self._idle: list[ThreadPoolExecutor] = []
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
