"""Running the server: the socket bound first, uvicorn on it until SIGINT/SIGTERM, then a clean
stop (open event streams closed, jobs still running marked interrupted, connections closed)."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable

from kenv.settings import Settings

# Streams stay open for as long as a job runs: a stop waits this long for them, then closes them.
GRACEFUL_SECONDS = 3


def run(settings: Settings, sock: socket.socket, *, announce: Callable[[], None]) -> None:
    import uvicorn

    from kenv.server.app import create_app
    from kenv.server.state import ServerState

    state = ServerState.open(settings)
    app = create_app(state)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        lifespan="off",
        # Keep-alive for the dashboard's polling and the bench's 200 requests on one connection.
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    # Until uvicorn installs its own handlers, a stop request is remembered here (uvicorn checks
    # should_exit as soon as it runs); once stopped, uvicorn re-raises the signal that stopped it,
    # which these handlers turn into nothing: `kenv serve` ends with exit 0, not a KeyboardInterrupt.
    def stop(number: int, frame: object) -> None:
        del number, frame
        server.should_exit = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        announce()
        server.run(sockets=[sock])
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        state.jobs.close()
        state.close()
        sock.close()
