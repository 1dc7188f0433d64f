"""`python -m servicedesk.serve [uvicorn options]`: the ASGI server, stopping cleanly.

It is uvicorn's own command line with two differences that matter for a server holding
websockets when it is told to stop (SIGTERM from `make run`, Docker or systemd, or Ctrl-C):

- the graceful shutdown is bounded: uvicorn closes every open socket with 1012 ("service
  restart", so clients reconnect elsewhere at once) and waits for the requests and consumers
  still running, but no longer than `--timeout-graceful-shutdown` (default
  WEB_GRACEFUL_SHUTDOWN_SECONDS, 5 s); whatever is left then is cancelled instead of holding the
  process open;
- live frames are sent uncompressed unless WEB_WS_DEFLATE=true (they are small, and there are
  many sockets);
- a stop that was asked for is a clean exit: code 0, where plain uvicorn re-raises the signal
  after shutting down and so reports death by SIGTERM (exit status 143 / -15) to its supervisor.
"""
from __future__ import annotations

import importlib
import os
import sys

from uvicorn.server import Server

# The module, not the `uvicorn.main` command the package exports under the same name.
cli = importlib.import_module("uvicorn.main")


class CleanExitServer(Server):
    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        # uvicorn records the signal to raise it again once shut down; a requested stop that
        # shut down gracefully is a success, so leave the exit code at 0.
        self._captured_signals.clear()


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("--timeout-graceful-shutdown") for a in args):
        args += ["--timeout-graceful-shutdown", os.environ.get("WEB_GRACEFUL_SHUTDOWN_SECONDS", "5")]
    if not any(a.startswith("--ws-per-message-deflate") for a in args):
        # Live frames are small JSON (a few hundred bytes): compressing each costs CPU on both ends
        # for every follower of a big incident, and each socket's compressor keeps its own buffers
        # (tens of kilobytes per open socket). WEB_WS_DEFLATE=true turns it back on.
        args += ["--ws-per-message-deflate", os.environ.get("WEB_WS_DEFLATE", "false")]
    cli.Server = CleanExitServer
    cli.main.main(args=args, prog_name="servicedesk.serve")


if __name__ == "__main__":
    main()
