"""The real app served by uvicorn in a thread on 127.0.0.1, for the browser tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.web.test_console import _free_port


@contextmanager
def serving(app: Any, *, name: str) -> Iterator[str]:
    """Serve ``app`` on a free port until the block ends; yields its base URL."""
    import uvicorn

    from hotline.web.serving import StoppingServer

    port = _free_port()
    # The app's own stop path (hotline.web.serving): live streams end when the stop begins,
    # so a page's WebSocket does not hold the server's exit for the join's 10 s.
    server = StoppingServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"), app=app
    )
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
