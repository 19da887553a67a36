"""Benchmark: many simulated chat customers and agents over WebSocket against the real server.

Starts the Hotline web app (the sample center, live routing on the wall clock, a temporary
SQLite database) in a subprocess with uvicorn on 127.0.0.1. Every chat agent of the sample
center (13, three chats each; ``--capacity`` raises it) signs in, becomes ready and opens the
chat desk socket, accepting every chat the routing engine offers and answering each customer
message. ``--conversations`` customers (default 60) start a chat through the public API at
once and open the widget's socket; each sends ``--rounds`` messages (default 20), waiting for
the agent's answer before the next (the first once an agent has joined: the time a chat waits
in the queue for an agent is the routing's, not a message's). Halfway, every customer's
connection drops: it reconnects from the last sequence number it saw and re-sends whatever the
server had not acknowledged, as the widget does. The customers start once every agent is
signed in and ready.

Measured: every message's time from the sender's ``send`` to its arrival on the other side
(``p50_ms``, ``p99_ms``), messages per second, and ``lost`` — messages sent but never
delivered to the other side, or delivered twice, or not acknowledged to the sender; it must
be 0. ``concurrent_conversations`` is the most chats held by agents at once.

The peer, in the same run: the same customers and agents over a bare relay (a Starlette
WebSocket route pairing each customer with an agent, nothing stored, nothing routed) served
the same way. ``p99_ratio_to_peer`` is Hotline's p99 ÷ the bare relay's: what storing every
message, numbering it, routing the chat and acknowledging after the commit cost.

    .venv/bin/python bench/chat.py [--quick] [--conversations 60] [--rounds 20]

Progress goes to stderr (Rich); one JSON line goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "src/hotline/config/samples/appliance_center.yaml"
PASSWORD = "bench-password-9"
console = Console(stderr=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --------------------------------------------------------------------------- the servers


def chat_agents() -> list[str]:
    from hotline.config.validate import load_center

    center = load_center(SAMPLE)
    return [a.id for a in center.agents if "chat" in a.skills]


def serve_hotline(port: int, home: Path, capacity: int) -> None:
    """The real app: sample center with limits opened for the load, agents with accounts."""
    import uvicorn

    from hotline.config.validate import load_center
    from hotline.core.settings import Settings
    from hotline.identity.passwords import hash_password
    from hotline.live.driver import LiveDriver, attach
    from hotline.store.db import make_engine, make_session_factory
    from hotline.store.migrate import upgrade
    from hotline.store.models.core import User
    from hotline.web.app import create_app

    sample = load_center(SAMPLE)
    assert sample.chat is not None
    chat = sample.chat.model_copy(
        update={"conversations_per_hour": 100_000, "messages_per_minute": 10_000}
    )
    agents = [
        a.model_copy(update={"capacity": {**a.capacity, "chat": capacity}}) for a in sample.agents
    ]
    center = sample.model_copy(update={"chat": chat, "agents": agents})
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    with factory() as session:
        for agent_id in chat_agents():
            session.add(
                User(
                    username=agent_id,
                    display_name=agent_id,
                    password_hash=digest,
                    roles=["agent"],
                    agent_id=agent_id,
                    language="zh-CN",
                    active=True,
                )
            )
        session.commit()
    app = create_app(
        settings=Settings(home=home, secret_key="bench-secret"),
        session_factory=factory,
        center=center,
    )
    attach(app, LiveDriver(center=center, honour_hours=False))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=16 * 2**20)


def serve_bare(port: int) -> None:
    """The peer: a bare WebSocket relay pairing customer and agent by room, nothing kept."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    rooms: dict[str, dict[str, WebSocket]] = {}

    async def relay(websocket: WebSocket) -> None:
        room, side = websocket.path_params["room"], websocket.path_params["side"]
        await websocket.accept()
        rooms.setdefault(room, {})[side] = websocket
        other = "agent" if side == "customer" else "customer"
        try:
            while True:
                text = await websocket.receive_text()
                peer = rooms[room].get(other)
                if peer is not None:
                    await peer.send_text(text)
                await websocket.send_text(json.dumps({"type": "ack", **json.loads(text)}))
        except WebSocketDisconnect:
            rooms[room].pop(side, None)

    app = Starlette(routes=[WebSocketRoute("/relay/{room}/{side}", relay)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


# --------------------------------------------------------------------------- the load


@dataclass
class Tally:
    """What one run measured."""

    latencies_ms: list[float] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # client_id -> when sent
    delivered: dict[str, int] = field(default_factory=dict)  # client_id -> times delivered
    acked: set[str] = field(default_factory=set)
    reconnections: int = 0
    held: set[str] = field(default_factory=set)
    held_peak: int = 0
    ready_agents: int = 0
    errors: list[str] = field(default_factory=list)

    def send(self, client_id: str) -> None:
        self.sent.setdefault(client_id, time.perf_counter())

    def arrive(self, client_id: str) -> None:
        self.delivered[client_id] = self.delivered.get(client_id, 0) + 1
        if self.delivered[client_id] == 1 and client_id in self.sent:
            self.latencies_ms.append((time.perf_counter() - self.sent[client_id]) * 1000)

    def lost(self) -> int:
        missing = [c for c in self.sent if self.delivered.get(c, 0) != 1 or c not in self.acked]
        return len(missing)


async def hotline_agent(base: str, agent_id: str, tally: Tally, done: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post(
            "/api/auth/login", json={"username": agent_id, "password": PASSWORD}
        )
        login.raise_for_status()
        token = login.json()["token"]
        headers = {"authorization": f"Bearer {token}"}
        ws_url = base.replace("http", "ws") + "/api/chat/ws"
        async with websockets.connect(ws_url, additional_headers=headers, max_size=2**24) as ws:
            state = await http.post(
                f"/api/live/agents/{agent_id}/state", json={"state": "ready"}, headers=headers
            )
            state.raise_for_status()
            tally.ready_agents += 1
            receiving = asyncio.create_task(_agent_loop(ws, agent_id, tally))
            await done.wait()
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiving


async def _agent_loop(ws: Any, agent_id: str, tally: Tally) -> None:
    replies = 0
    async for raw in ws:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "offer":
            await ws.send(json.dumps({"type": "accept", "conversation": frame["conversation"]}))
        elif kind == "conversation":
            tally.held.add(frame["conversation"])
            tally.held_peak = max(tally.held_peak, len(tally.held))
            for message in frame.get("messages", []):
                if message.get("sender") == "customer" and message.get("client_id"):
                    await _answer(ws, frame["conversation"], message, agent_id, tally, replies)
                    replies += 1
        elif kind == "message" and frame.get("sender") == "customer" and frame.get("client_id"):
            await _answer(ws, frame["conversation"], frame, agent_id, tally, replies)
            replies += 1
        elif kind == "ack":
            tally.acked.add(frame["client_id"])
        elif (
            kind == "state"
            and frame.get("phase") == "ended"
            and frame["conversation"] in tally.held
        ):
            tally.held.discard(frame["conversation"])
            await ws.send(json.dumps({"type": "wrap_up", "conversation": frame["conversation"]}))
        elif kind == "refused":
            tally.errors.append(f"agent {agent_id}: {frame}")


async def _answer(
    ws: Any, conversation: str, message: dict[str, Any], agent_id: str, tally: Tally, n: int
) -> None:
    tally.arrive(message["client_id"])
    reply_id = "r" + message["client_id"]
    if reply_id in tally.sent:
        return
    tally.send(reply_id)
    frame = {
        "type": "message",
        "conversation": conversation,
        "text": f"收到 {n}",
        "client_id": reply_id,
    }
    await ws.send(json.dumps(frame))


async def hotline_customer(
    base: str, number: int, rounds: int, tally: Tally, progress: Any, task: Any
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        started = await http.post(
            "/chat/api/conversations",
            json={"name": f"客户{number}", "phone": f"1380000{number:04d}", "topic": "压测"},
        )
        started.raise_for_status()
        token = started.json()["token"]
    last_seq = 0
    pending: dict[str, dict[str, Any]] = {}
    ws_base = base.replace("http", "ws") + f"/chat/ws?token={token}"
    rng = random.Random(number)
    round_no = 0
    while round_no < rounds:
        async with websockets.connect(f"{ws_base}&after={last_seq}", max_size=2**24) as ws:
            for frame in pending.values():  # re-send what was not acknowledged
                await ws.send(json.dumps(frame))
            while last_seq == 0:  # the first message waits for an agent to join (routing)
                got = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if got.get("type") == "message":
                    last_seq = got["seq"]
            drop_at = rounds // 2 if round_no < rounds // 2 else rounds
            while round_no < drop_at:
                client_id = f"c{number}-{round_no}"
                frame = {"type": "message", "text": f"第 {round_no} 条", "client_id": client_id}
                pending[client_id] = frame
                tally.send(client_id)
                await ws.send(json.dumps(frame))
                answered = False
                while not answered:
                    raw = await asyncio.wait_for(ws.recv(), timeout=60)
                    got = json.loads(raw)
                    if got.get("type") == "message":
                        last_seq = max(last_seq, got["seq"])
                        if got.get("sender") == "agent" and got.get("client_id") == "r" + client_id:
                            tally.arrive(got["client_id"])
                            answered = True
                    elif got.get("type") == "ack":
                        tally.acked.add(got["client_id"])
                        pending.pop(got["client_id"], None)
                    elif got.get("type") == "refused":
                        tally.errors.append(f"customer {number}: {got}")
                round_no += 1
                progress.advance(task)
                await asyncio.sleep(rng.uniform(0.05, 0.15))
            if round_no >= rounds:
                # Wait for the last acknowledgements, then end the chat.
                deadline = time.monotonic() + 10
                while pending and time.monotonic() < deadline:
                    got = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if got.get("type") == "ack":
                        tally.acked.add(got["client_id"])
                        pending.pop(got["client_id"], None)
                await ws.send(json.dumps({"type": "end"}))
            else:
                tally.reconnections += 1  # the connection drops here; the loop reconnects


async def bare_agent(base: str, room: str, tally: Tally) -> None:
    async with websockets.connect(f"{base}/relay/{room}/agent") as ws:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "ack":
                tally.acked.add(frame["client_id"])
                continue
            tally.arrive(frame["client_id"])
            reply_id = "r" + frame["client_id"]
            tally.send(reply_id)
            await ws.send(json.dumps({"client_id": reply_id, "text": "收到"}))


async def bare_customer(
    base: str, room: str, rounds: int, tally: Tally, progress: Any, task: Any
) -> None:
    async with websockets.connect(f"{base}/relay/{room}/customer") as ws:
        await asyncio.sleep(0.2)  # the agent's side joins the room
        rng = random.Random(room)
        for n in range(rounds):
            client_id = f"{room}-{n}"
            tally.send(client_id)
            await ws.send(json.dumps({"client_id": client_id, "text": f"第 {n} 条"}))
            answered = False
            while not answered:
                got = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if got.get("type") == "ack":
                    tally.acked.add(got["client_id"])
                elif got.get("client_id") == "r" + client_id:
                    tally.arrive(got["client_id"])
                    answered = True
            progress.advance(task)
            await asyncio.sleep(rng.uniform(0.05, 0.15))


async def run_hotline(
    base: str, conversations: int, rounds: int, progress: Any
) -> tuple[Tally, float]:
    tally, done = Tally(), asyncio.Event()
    agents = [asyncio.create_task(hotline_agent(base, a, tally, done)) for a in chat_agents()]
    expected = len(agents)
    deadline = time.monotonic() + 120
    while tally.ready_agents < expected:  # sign-ins (Argon2, slow on purpose) and ready
        if time.monotonic() > deadline or all(a.done() for a in agents):
            raise SystemExit(f"only {tally.ready_agents} of {expected} agents became ready")
        await asyncio.sleep(0.1)
    task = progress.add_task("Hotline chats", total=conversations * rounds)
    began = time.perf_counter()
    await asyncio.gather(
        *(hotline_customer(base, n, rounds, tally, progress, task) for n in range(conversations))
    )
    elapsed = time.perf_counter() - began
    await asyncio.sleep(1.0)  # the last acknowledgements of the agents' replies
    done.set()
    await asyncio.gather(*agents, return_exceptions=True)
    return tally, elapsed


async def run_bare(
    base: str, conversations: int, rounds: int, progress: Any
) -> tuple[Tally, float]:
    tally = Tally()
    task = progress.add_task("bare relay", total=conversations * rounds)
    agents = [
        asyncio.create_task(bare_agent(base, f"room{n}", tally)) for n in range(conversations)
    ]
    began = time.perf_counter()
    await asyncio.gather(
        *(
            bare_customer(base, f"room{n}", rounds, tally, progress, task)
            for n in range(conversations)
        )
    )
    elapsed = time.perf_counter() - began
    await asyncio.sleep(0.5)
    for agent in agents:
        agent.cancel()
    await asyncio.gather(*agents, return_exceptions=True)
    return tally, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 chats of 10 rounds")
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=5, help="chats per agent at once")
    parser.add_argument(
        "--serve", nargs=3, metavar=("PORT", "HOME", "CAPACITY"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_hotline(int(args.serve[0]), Path(args.serve[1]), int(args.serve[2]))
        return
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    conversations, rounds = (30, 10) if args.quick else (args.conversations, args.rounds)
    with tempfile.TemporaryDirectory(prefix="hotline-chat-bench-") as home:
        hotline_port, bare_port = free_port(), free_port()
        servers = [
            start_server(["--serve", str(hotline_port), home, str(args.capacity)], hotline_port),
            start_server(["--serve-bare", str(bare_port)], bare_port),
        ]
        try:
            with Progress(console=console, transient=True) as progress:
                hotline, hotline_s = asyncio.run(
                    run_hotline(f"http://127.0.0.1:{hotline_port}", conversations, rounds, progress)
                )
                bare, _ = asyncio.run(
                    run_bare(f"ws://127.0.0.1:{bare_port}", conversations, rounds, progress)
                )
        finally:
            for server in servers:
                server.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    server.wait(timeout=20)
    messages = len(hotline.delivered)
    for error in hotline.errors[:5]:
        console.print(f"[red]{error}")
    result = {
        "bench": "chat",
        "messages": messages,
        "lost": hotline.lost(),
        "p50_ms": round(percentile(hotline.latencies_ms, 0.50), 2),
        "p99_ms": round(percentile(hotline.latencies_ms, 0.99), 2),
        "messages_per_s": round(messages / hotline_s, 1),
        "concurrent_conversations": hotline.held_peak,
        "conversations": conversations,
        "rounds": rounds,
        "reconnections": hotline.reconnections,
        "errors": len(hotline.errors),
        "peer": "bare Starlette WebSocket relay (nothing stored or routed)",
        "peer_messages": len(bare.delivered),
        "peer_lost": bare.lost(),
        "peer_p99_ms": round(percentile(bare.latencies_ms, 0.99), 2),
        "p99_ratio_to_peer": round(
            percentile(hotline.latencies_ms, 0.99) / percentile(bare.latencies_ms, 0.99), 2
        ),
        "quick": args.quick,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
