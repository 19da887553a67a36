"""Which contacts a voice node carries and who is on them (``carry``), and what its loss
writes (``loss_events``): pure, from the node's events."""

from __future__ import annotations

from hotline.core.events import Channel, Event, EventKind
from hotline.live.voice_nodes import carry, loss_events
from hotline.store.voice_nodes import Leg, LostNode

VOICE = Channel.VOICE


def _legs(*events: Event) -> dict[str, tuple[str | None, str | None, float | None]]:
    legs: dict[str, Leg] = {}
    for event in events:  # one event per batch: the fold carries on across batches
        legs.update(carry(legs, [event]))
    return {c: (leg.agent_id, leg.stage, leg.closed_at) for c, leg in legs.items()}


def test_an_agent_is_on_a_contact_from_the_offer_to_the_end_of_wrap_up() -> None:
    assert _legs(
        Event(1, 1.0, EventKind.ARRIVED, "c1", channel=VOICE),
        Event(2, 2.0, EventKind.OFFERED, "c1", "a001", "repair"),
    ) == {"c1": ("a001", "ringing", None)}
    assert _legs(
        Event(1, 1.0, EventKind.OFFERED, "c1", "a001", "repair"),
        Event(2, 2.0, EventKind.ANSWERED, "c1", "a001", "repair"),
        Event(3, 3.0, EventKind.DISCONNECTED, "c1", "a001", "repair"),
    ) == {"c1": ("a001", "wrap_up", None)}
    assert _legs(
        Event(1, 1.0, EventKind.ANSWERED, "c1", "a001", "repair"),
        Event(2, 2.0, EventKind.DISCONNECTED, "c1", "a001", "repair"),
        Event(3, 3.0, EventKind.WRAP_UP_ENDED, "c1", "a001", "repair"),
        Event(4, 3.0, EventKind.FINISHED, "c1", queue="repair"),
    ) == {"c1": (None, None, 3.0)}


def test_a_ring_no_answer_or_a_transfer_lets_the_agent_go() -> None:
    assert _legs(
        Event(1, 1.0, EventKind.OFFERED, "c1", "a001", "repair"),
        Event(2, 9.0, EventKind.RING_NO_ANSWER, "c1", "a001", "repair"),
    ) == {"c1": (None, None, None)}
    assert _legs(
        Event(1, 1.0, EventKind.ANSWERED, "c1", "a001", "repair"),
        Event(2, 5.0, EventKind.TRANSFERRED, "c1", "a001", "sales"),
        Event(3, 6.0, EventKind.OFFERED, "c1", "a002", "sales"),
    ) == {"c1": ("a002", "ringing", None)}


def test_a_lost_node_frees_only_agents_on_no_other_nodes_call() -> None:
    node = LostNode(
        "n1",
        "voice-a",
        5.0,
        (
            Leg("c1", 1.0, "repair", "voice", "a001", "wrap_up"),
            Leg("c2", 2.0, "repair", "voice", "a002", "ringing"),
        ),
        busy_elsewhere=frozenset({"a002"}),
    )
    events = loss_events(node, at=9.0)
    # a001 was in wrap-up: already disconnected, so only the contact's end and the freeing
    assert [(e.kind.value, e.contact_id or e.agent_id, e.data.get("previous")) for e in events] == [
        ("finished", "c1", None),
        ("finished", "c2", None),
        ("agent_state", "a001", "wrap_up"),
        ("alarm", None, None),
    ]
    assert events[-1].data["agents"] == ["a001"]
    assert {e.data["outcome"] for e in events if e.kind is EventKind.FINISHED} == {"interrupted"}
