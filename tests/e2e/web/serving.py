"""The real app served by uvicorn in a thread on 127.0.0.1, for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hotline.web.serving import StoppingServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, *, name: str) -> Iterator[str]:
    """Serve ``app`` on a free port until the block ends; yields its base URL."""
    import uvicorn

    port = _free_port()
    # The app's own stop (hotline.web.serving): a desk's live stream ends at once instead of
    # holding uvicorn's wait for open connections until the join below gives up.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = StoppingServer(config, app=app)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
