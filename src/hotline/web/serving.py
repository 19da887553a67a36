"""Running the web app under uvicorn so that a service manager's stop is a clean stop.

A contact center's server is stopped by a service manager (systemd, a container runtime)
with SIGTERM, and killed if it has not gone after a grace period (systemd waits 90 s by
default). uvicorn on SIGTERM stops accepting connections, then waits for every open
connection to finish before it runs the application's shutdown — and a wallboard or an agent
desk keeps a live stream (SSE or WebSocket) open for as long as it is on screen, so without
help the wait never ends and the stop becomes a kill: contacts in progress are then never
closed, and the last events in memory are lost.

:func:`serve_app` closes the app's live streams the moment the stop begins
(:meth:`hotline.web.events.EventHub.close`) and bounds uvicorn's wait for the remaining
requests (``timeout_graceful_shutdown``), so the application's own shutdown — the live
driver's drain, which closes contacts in progress (``hotline.live.recovery``) and writes the
last events — always runs, within :data:`SHUTDOWN_GRACE_S` plus the drain.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from hotline.core.heap import freeze_startup_heap

#: Seconds uvicorn waits for requests still running after the stop began (streams are closed
#: at once; this bounds a slow report or import request).
SHUTDOWN_GRACE_S = 5


class StoppingServer(uvicorn.Server):
    """A uvicorn server that ends the app's live streams first when told to stop."""

    def __init__(self, config: uvicorn.Config, *, app: Any) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Tell the app it is stopping, end its streams, then take uvicorn's graceful path."""
        state = self._app.state
        state.stopping = True
        hub = getattr(state, "hub", None)
        if hub is not None:
            hub.close()
        await super().shutdown(sockets)


def serve_app(app: Any, *, host: str, port: int, log_level: str = "warning") -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C; the stop takes a bounded time.

    >>> # serve_app(create_app(), host="127.0.0.1", port=8000)
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        # The app decides whose X-Forwarded-For to believe (hotline.web.proxies); uvicorn's
        # default would believe any process on 127.0.0.1.
        proxy_headers=False,
    )
    # start-up is done: keep its objects out of the collector's full scans, whose pauses
    # stop the voice server's SIP thread and event loop (hotline.core.heap)
    freeze_startup_heap()
    StoppingServer(config, app=app).run()
