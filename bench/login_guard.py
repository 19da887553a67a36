"""Benchmark: what a password guesser sees at the sign-in endpoint of a real server.

Starts the app under uvicorn on 127.0.0.1 with a fresh SQLite database and one user, then,
over HTTP as an outsider would:

1. **Timing**: signs in N times with an unknown user name and N times with the real user's
   name and a wrong password (the failure counters are cleared between attempts, so neither
   run is throttled) and reports the median time of each and the gap between them. Before the
   fix an unknown name skipped Argon2 and answered ~50× faster, telling which names exist.
2. **Guessing**: sends 60 wrong passwords for the user at about 6 per second, then the right
   one, and reports the statuses: the fix answers 429 with ``Retry-After`` after the fifth.

Prints one JSON line.

    .venv/bin/python bench/login_guard.py [--quick] [--attempts N]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import delete

from hotline.core.settings import Settings
from hotline.identity import service as identity
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.identity import LoginFailures
from hotline.web.app import create_app

USER, PASSWORD = "ana.li", "staple-Battery-37"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing attempts (20)")
    parser.add_argument("--attempts", type=int, default=0, help="timing attempts per kind")
    args = parser.parse_args()
    attempts = args.attempts or (20 if args.quick else 100)

    with tempfile.TemporaryDirectory() as home:
        engine = make_engine(f"sqlite:///{Path(home) / 'hotline.db'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session:
            identity.create_user(session, username=USER, password=PASSWORD, roles=["agent"])
            session.commit()
        app = create_app(
            settings=Settings(home=Path(home), secret_key="bench"), session_factory=factory
        )
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)

        def forget_failures() -> None:
            with factory() as session:
                session.execute(delete(LoginFailures))
                session.commit()

        timings: dict[str, list[float]] = {"unknown_user": [], "wrong_password": []}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for number in range(attempts):
                pair = [("unknown_user", f"nobody{number}"), ("wrong_password", USER)]
                for kind, name in pair if number % 2 else reversed(pair):  # no order bias
                    forget_failures()
                    started = time.perf_counter()
                    response = client.post(
                        "/api/auth/login", json={"username": name, "password": "wrong-guess-1"}
                    )
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 401, response.text
            forget_failures()
            statuses: Counter[int] = Counter()
            retry_after = None
            for _ in range(60):
                started = time.perf_counter()
                guess = client.post(
                    "/api/auth/login", json={"username": USER, "password": "wrong-guess-1"}
                )
                statuses[guess.status_code] += 1
                retry_after = guess.headers.get("retry-after", retry_after)
                time.sleep(max(0.0, 1 / 6 - (time.perf_counter() - started)))
            right = client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()

    unknown = statistics.median(timings["unknown_user"])
    wrong = statistics.median(timings["wrong_password"])
    print(
        json.dumps(
            {
                "attempts": attempts,
                "unknown_user_p50_ms": round(unknown, 1),
                "wrong_password_p50_ms": round(wrong, 1),
                "timing_gap_ms": round(abs(unknown - wrong), 1),
                "guesses_statuses": {str(code): n for code, n in sorted(statuses.items())},
                "last_retry_after_s": int(retry_after) if retry_after else None,
                "right_password_after_60_wrong": right.status_code,
            }
        )
    )


if __name__ == "__main__":
    main()
