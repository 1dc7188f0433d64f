"""Django's ASGI handler, with each HTTP request's synchronous work in one hop to a reused thread.

Every middleware here and every view is synchronous. Django's own handler:
- builds an async chain around them: it hops to a thread for the outer middleware, back to the
  event loop for the inner request handling, and to a thread again for the view. Built as a
  synchronous chain and called once through `sync_to_async`, a request does the same work in one
  hop;
- sends `request_started` and closes the response (which sends `request_finished`) in hops of
  their own, before and after the view's. Here the signal, the view and, for a response whose
  body is already in memory, its closing run in the view's hop. A streaming response is closed
  after its body is sent, as Django does;
- starts a thread for every request (asgiref's per-request context) and, when the request ends,
  joins it on the event loop, which stalls every socket of the process meanwhile. Here a request
  borrows a one-thread executor from a small free list and gives it back (asgiref's
  `ThreadSensitiveContext(executor=...)`), as a WSGI server's worker threads serve one request
  after another. Django closes or returns the request's database connection on its thread when
  the request finishes, so nothing of one request is left for the next.

Django also races each view against a listener for the client's disconnect so that an async view
can be cancelled; a synchronous view runs to its end either way, and the server drops what is
sent after a disconnect, so the listener is left out.

What the request queued after commit (servicedesk/after_response.py: live pushes, handing outbox
rows to the broker) runs once the response has been sent, so the answer does not wait behind the
frames and the worker tasks it causes.

Reading the body, building the request and sending the response are Django's own methods.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi
from django.http import FileResponse
from django.urls import set_script_prefix

from . import after_response

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

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(asgi.get_script_prefix(scope))
        queued = after_response.open_queue()
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()
            await after_response.run(queued)

    def _respond(self, scope, body_file):
        """In the request's thread: `request_started`, the request, the response and, when its body
        is in memory, closing it (`request_finished` returns the database connection)."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response
