"""The takeover's pure rule: what a partition's log says is in progress (issue #20)."""

from __future__ import annotations

from hotline.core.events import Event, EventKind
from hotline.live.takeover import AgentPresence, fold


def _e(seq: int, at: float, kind: EventKind, contact: str | None = None, **kw: object) -> Event:
    return Event(seq, at, kind, contact, **kw)  # type: ignore[arg-type]


def test_a_ringing_contact_waits_again_and_keeps_its_place() -> None:
    events = [
        _e(1, 1.0, EventKind.QUEUED, "early", queue="repair"),
        _e(2, 2.0, EventKind.QUEUED, "late", queue="repair"),
        _e(3, 3.0, EventKind.OFFERED, "early", agent_id="a1", queue="repair"),
    ]
    state = fold(events, {})
    assert [(c.contact_id, c.stage, c.agent_id, c.ringing) for c in state.waiting] == [
        ("early", "waiting", None, "a1"),  # the new owner offers it to a1 first
        ("late", "waiting", None, None),
    ]
    assert state.in_hand == []
    rang_out = fold([*events, _e(4, 4.0, EventKind.RING_NO_ANSWER, "early", agent_id="a1")], {})
    assert rang_out.waiting[0].ringing is None


def test_overflow_and_transfer_move_the_contact_to_its_last_queue() -> None:
    events = [
        _e(1, 1.0, EventKind.QUEUED, "c1", queue="repair"),
        _e(2, 9.0, EventKind.OVERFLOWED, "c1", queue="complaints"),
        _e(3, 1.0, EventKind.QUEUED, "c2", queue="repair"),
        _e(4, 2.0, EventKind.ANSWERED, "c2", agent_id="a1", queue="repair"),
        _e(5, 3.0, EventKind.TRANSFERRED, "c2", queue="installation"),
    ]
    state = fold(events, {})
    assert [(c.contact_id, c.queue) for c in state.waiting] == [
        ("c1", "complaints"),
        ("c2", "installation"),
    ]


def test_wrap_up_stays_with_its_agent_and_an_abandoned_or_unqueued_contact_is_not_restored() -> (
    None
):
    events = [
        _e(1, 1.0, EventKind.QUEUED, "c1", queue="repair"),
        _e(2, 2.0, EventKind.ANSWERED, "c1", agent_id="a1", queue="repair"),
        _e(3, 5.0, EventKind.DISCONNECTED, "c1", agent_id="a1", queue="repair"),
        _e(4, 1.0, EventKind.QUEUED, "gone", queue="repair"),
        _e(5, 4.0, EventKind.ABANDONED, "gone", queue="repair"),
        _e(6, 1.0, EventKind.IVR_STEP, "in-ivr"),
    ]
    state = fold(events, {}, last_seq=6)
    assert [(c.contact_id, c.stage, c.agent_id) for c in state.in_hand] == [("c1", "wrap_up", "a1")]
    assert state.waiting == []
    assert state.last_seq == 6


def test_agents_keep_their_presence_and_the_signed_out_stay_out() -> None:
    def state(seq: int, agent: str, name: str, reason: str | None = None) -> Event:
        data = {"state": name, **({"reason": reason} if reason else {})}
        return _e(seq, float(seq), EventKind.AGENT_STATE, agent_id=agent, data=data)

    agents = {
        "busy": [state(5, "busy", "on_contact"), state(2, "busy", "not_ready", "training")],
        "ready": [state(4, "ready", "available")],
        "left": [state(3, "left", "logged_out")],
        "busy-all-day": [state(6, "busy-all-day", "wrap_up")],
    }
    assert fold([], agents).agents == [
        AgentPresence("busy", False, "training"),
        AgentPresence("busy-all-day", True),
        AgentPresence("ready", True),
    ]


def test_an_agent_made_ready_straight_into_an_offer_is_restored_ready() -> None:
    """Ready while a caller waited: offered at once, so no ``available`` in the log.

    The engine's working states say the agent's presence (``ready``); the newest event that
    says it decides, so the break before the offer is over.
    """

    def state(seq: int, agent: str, data: dict[str, object]) -> Event:
        return _e(seq, float(seq), EventKind.AGENT_STATE, agent_id=agent, data=data)

    on_break: dict[str, object] = {"state": "not_ready", "previous": "available", "reason": "break"}
    agents = {
        "a1": [
            state(3, "a1", {"state": "reserved", "previous": "not_ready", "ready": True}),
            state(2, "a1", on_break),
        ],
        # went not ready on the call: the reason is the not_ready event's that began it
        "a2": [
            state(6, "a2", {"state": "wrap_up", "previous": "on_contact", "ready": False}),
            state(5, "a2", {"state": "on_contact", "previous": "reserved", "ready": True}),
            state(4, "a2", {"state": "reserved", "previous": "not_ready", "ready": True}),
            state(2, "a2", on_break),
        ],
        "a3": [
            state(8, "a3", {"state": "on_contact", "previous": "reserved", "ready": False}),
            state(7, "a3", {"state": "reserved", "previous": "not_ready", "ready": False}),
            state(2, "a3", {**on_break, "reason": "lunch"}),
        ],
    }
    assert fold([], agents).agents == [
        AgentPresence("a1", True),
        AgentPresence("a2", False),  # ready since the break: its reason is not theirs now
        AgentPresence("a3", False, "lunch"),
    ]
