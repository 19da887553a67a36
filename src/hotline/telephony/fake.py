"""In-tree fakes of the telephony ports, for fast tests of the call driver.

There is no fake ACD: the driver tests route through the real routing engine
(:class:`hotline.telephony.acd.EngineRouter`), as the server does.

- :class:`FakeMediaServer` answers like rtpengine (an SDP per side, a duration per prompt)
  and remembers every command; ``down = True`` makes it fail like an unreachable server.
- :class:`FakeSignalling` remembers what the driver asked the SIP side to do.
- :class:`ListSink` keeps events in a list (the live driver writes JSON lines instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hotline.core.events import Event
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import MediaRejected, MediaUnavailable, Playback, Subscription


@dataclass
class FakeMediaServer:
    """Remembers commands; each prompt 'lasts' ``duration_ms``.

    ``down`` fails every command like an unreachable server; ``reject_offers`` refuses
    offers like a healthy server handed an unusable SDP.
    """

    duration_ms: int = 10
    down: bool = False
    reject_offers: bool = False
    commands: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def _record(self, command: str, **params: object) -> None:
        if self.down:
            raise MediaUnavailable("fake media server is down")
        self.commands.append((command, params))

    async def offer(
        self, *, call: str, from_tag: str, sdp: str, webrtc: bool = False, handover: bool = False
    ) -> str:
        """Return a placeholder SDP for the other side (or refuse it, like a bad SDP); a
        browser's offer is recorded with ``webrtc=True`` and its SDP uses port 40004, an
        offer with ``handover`` with ``handover=True``."""
        params: dict[str, object] = {"call": call, "from_tag": from_tag}
        if webrtc:
            params["webrtc"] = True
        if handover:
            params["handover"] = True
        self._record("offer", **params)
        if self.reject_offers:
            raise MediaRejected("rtpengine offer: Incomplete SDP specification")
        return placeholder_sdp(40004 if webrtc else 40000)

    async def answer(
        self,
        *,
        call: str,
        from_tag: str,
        to_tag: str,
        sdp: str,
        webrtc: bool = False,
        keep_ports: bool = False,
    ) -> str:
        """Return a placeholder SDP for the caller; a browser's answer is recorded with
        ``webrtc=True``, one after a second offer with ``keep_ports=True``."""
        extra = {"webrtc": True} if webrtc else {}
        if keep_ports:
            extra["keep_ports"] = True
        self._record("answer", call=call, to_tag=to_tag, sdp=sdp, **extra)
        return placeholder_sdp(40002)

    async def play(self, *, call: str, tag: str, path: str, repeat: int = 1) -> Playback:
        """Pretend to play ``path``."""
        self._record("play", call=call, tag=tag, path=path, repeat=repeat)
        return Playback(self.duration_ms)

    async def stop(self, *, call: str, tag: str) -> None:
        """Pretend to stop playing."""
        self._record("stop", call=call, tag=tag)

    async def block(self, *, call: str, tag: str) -> None:
        """Pretend to stop relaying ``tag``."""
        self._record("block", call=call, tag=tag)

    async def unblock(self, *, call: str, tag: str) -> None:
        """Pretend to relay ``tag`` again."""
        self._record("unblock", call=call, tag=tag)

    async def start_recording(self, *, call: str) -> None:
        """Pretend to record."""
        self._record("start_recording", call=call)

    async def stop_recording(self, *, call: str) -> None:
        """Pretend to stop recording."""
        self._record("stop_recording", call=call)

    async def delete(self, *, call: str) -> None:
        """Pretend to release the call."""
        self._record("delete", call=call)

    async def subscribe(self, *, call: str, from_tags: list[str]) -> Subscription:
        """Offer one placeholder audio section per forked party, as rtpengine does."""
        self._record("subscribe", call=call, from_tags=list(from_tags))
        head, _, media = placeholder_sdp(40004).partition("m=audio")
        return Subscription(
            f"sub-{len(self.commands)}", head + ("m=audio" + media) * len(from_tags)
        )

    async def subscribe_answer(self, *, call: str, to_tag: str, sdp: str) -> None:
        """Pretend to send the forked media where ``sdp`` says."""
        self._record("subscribe_answer", call=call, to_tag=to_tag, sdp=sdp)

    async def unsubscribe(self, *, call: str, to_tag: str) -> None:
        """Pretend to stop the fork."""
        self._record("unsubscribe", call=call, to_tag=to_tag)

    async def ping(self) -> bool:
        """Up unless ``down``."""
        return not self.down

    def played(self, call: str) -> list[str]:
        """Names of the files played to ``call`` (without folders and extension)."""
        return [
            Path(str(p["path"])).stem for c, p in self.commands if c == "play" and p["call"] == call
        ]


@dataclass
class FakeSignalling:
    """Remembers answers, rejections, hang-ups and dials."""

    actions: list[tuple[str, ...]] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (leg, SDP) in order
    offers: dict[str, str] = field(default_factory=dict)  # dialled leg -> the SDP it offered
    callers: dict[str, str] = field(default_factory=dict)  # dialled leg -> calling party

    def answer(self, leg: str, sdp: str) -> None:
        """Remember the answer."""
        self.actions.append(("answer", leg))
        self.answers.append((leg, sdp))

    def reject(self, leg: str, code: int, reason: str) -> None:
        """Remember the rejection."""
        self.actions.append(("reject", leg, str(code)))

    def hang_up(self, leg: str) -> None:
        """Remember the hang-up."""
        self.actions.append(("hang_up", leg))

    def dial(self, leg: str, *, contact: str, caller: str, sdp: str) -> None:
        """Remember the dial, the calling party it presents and its SDP."""
        self.actions.append(("dial", leg, contact))
        self.callers[leg] = caller
        self.offers[leg] = sdp

    def update(self, leg: str, sdp: str) -> None:
        """Remember the re-INVITE."""
        self.actions.append(("update", leg))
        self.answers.append((leg, sdp))


@dataclass
class ListSink:
    """Keeps appended events in memory."""

    events: list[Event] = field(default_factory=list)

    def append(self, event: Event) -> None:
        """Keep one event."""
        self.events.append(event)

    def kinds(self, contact_id: str | None = None) -> list[str]:
        """Event kinds in order (of one contact, or all)."""
        return [
            e.kind.value for e in self.events if contact_id is None or e.contact_id == contact_id
        ]


@dataclass
class FakeNumberScreen:
    """A do-not-call list in memory: ``numbers`` maps a listed number to its list's name."""

    numbers: dict[str, str] = field(default_factory=dict)
    refusals: list[dict[str, str | None]] = field(default_factory=list)

    async def listed(self, number: str) -> str | None:
        """The list holding ``number``, as written, or ``None``."""
        return self.numbers.get(number)

    async def refused(
        self, *, number: str, list_name: str, agent_id: str, path: str, contact_id: str | None
    ) -> None:
        """Remember the refusal."""
        self.refusals.append(
            {
                "number": number,
                "list": list_name,
                "agent": agent_id,
                "path": path,
                "contact": contact_id,
            }
        )
