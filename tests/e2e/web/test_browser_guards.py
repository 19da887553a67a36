"""In a real Chromium: the pages run under the Content-Security-Policy, and a page served from
another port of the same host (same site, so the SameSite cookie goes along) can neither open
the live WebSocket nor sign the user out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.web.serving import _free_port
from tests.e2e.web.test_console import (  # noqa: F401 (browser, server: module fixtures)
    Server,
    _signed_in,
    browser,
    server,
)

PAGES = [
    "/console",
    "/wallboard",
    "/reports",
    "/admin",
    "/quality",
    "/quality/calibration",
    "/manager",
    "/knowledge",
    "/knowledge/manage",
]


def _csp_violations(page: Any) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def test_every_page_runs_under_the_content_security_policy(
    browser: Any,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    admin = _signed_in(browser, server, "root")
    violations = _csp_violations(admin)
    for path in PAGES:
        response = admin.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        admin.wait_for_load_state("networkidle")
    admin.goto(f"{server.url}/wallboard")
    expect(admin.locator("body")).to_have_attribute("data-live", "ws", timeout=5000)
    agent = _signed_in(browser, server, "a001")
    violations += _csp_violations(agent)
    agent.goto(f"{server.url}/desk")
    agent.click("#btn-ready")
    expect(agent.locator("#state")).to_have_text("空闲")
    assert violations == []
    login = browser.new_context().new_page()
    violations = _csp_violations(login)
    login.goto(f"{server.url}/login")
    login.fill("input[name=username]", "boss")
    login.fill("input[name=password]", "not-the-password")
    login.click("button[type=submit]")
    expect(login.locator("#login-error")).to_be_visible()
    assert violations == []


def _attacker_page(target: str) -> str:
    ws = target.replace("http://", "ws://")
    return f"""<!doctype html><html><body><script>
const report = (key, value) => {{ document.body.dataset[key] = value; }};
const socket = new WebSocket('{ws}/api/events/ws');
socket.onopen = () => report('socket', 'open');
socket.onclose = () => report('socket', document.body.dataset.socket || 'refused');
fetch('{target}/api/auth/logout', {{method: 'POST', credentials: 'include', mode: 'no-cors'}})
  .then(() => report('logout', 'sent'), () => report('logout', 'sent'));
</script></body></html>"""


@pytest.fixture
def attacker(server: Server) -> Iterator[str]:  # noqa: F811
    """A page on another port of the same host, as any local program could serve."""
    html = _attacker_page(server.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_a_page_on_another_port_cannot_act_for_the_signed_in_user(
    browser: Any,  # noqa: F811
    server: Server,  # noqa: F811
    attacker: str,
) -> None:
    from playwright.sync_api import expect

    supervisor = _signed_in(browser, server, "boss")
    foreign = supervisor.context.new_page()
    foreign.goto(attacker)
    expect(foreign.locator("body")).to_have_attribute("data-logout", "sent", timeout=5000)
    expect(foreign.locator("body")).to_have_attribute("data-socket", "refused", timeout=5000)
    # Still signed in: the cross-origin logout was refused, the session lives on.
    supervisor.goto(f"{server.url}/wallboard")
    expect(supervisor.locator("body")).to_have_attribute("data-live", "ws", timeout=5000)
