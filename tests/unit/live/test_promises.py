"""A web node's desk lists the call backs the log shows promised and not yet fired.

The owner logs each promise (``callback_promised``) and fires it by queueing its contact (the
callback id is the contact's id); :class:`LogFloor` folds both, and :class:`LogBoard` shows
each agent their own promises, soonest first, until the call back's contact arrives.
"""

from __future__ import annotations

from pathlib import Path

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.live.log_board import LogBoard
from hotline.live.promises import entry_of, promise_event, unfired

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def _promise(callback_id: str, agent: str, due_at: float) -> Event:
    entry = {
        "callback_id": callback_id,
        "queue": "repair",
        "due_at": due_at,
        "customer": "13800001111",
        "requested_by": agent,
        "note": "about the fridge",
        "for_contact": "c1",
    }
    return promise_event(entry, at=10.0, case_id="c0")


def test_the_desk_lists_promises_until_their_contact_arrives() -> None:
    board = LogBoard(load_center(SAMPLE))
    late, soon, other = (
        _promise("L-1-cb", "a001", 900.0),
        _promise("L-2-cb", "a001", 300.0),
        (_promise("W_3-cb", "a002", 100.0)),
    )
    board.record([e.renumbered(n) for n, e in enumerate((late, soon, other), start=1)])
    shown = board.agent_view("a001", 20.0)["callbacks"]
    assert [cb["callback_id"] for cb in shown] == ["L-2-cb", "L-1-cb"]  # soonest first
    assert shown[0] == {
        "callback_id": "L-2-cb",
        "queue": "repair",
        "due_at": 300.0,
        "customer": "13800001111",
        "requested_by": "a001",
        "note": "about the fridge",
        "for_contact": "c1",
    }
    assert [cb["callback_id"] for cb in board.agent_view("a002", 20.0)["callbacks"]] == ["W_3-cb"]
    # The owner fires L-2-cb: its contact arrives and queues; the desk no longer lists it.
    board.record(
        [
            Event(4, 300.0, EventKind.ARRIVED, "L-2-cb", queue="repair", channel=Channel.CALLBACK),
            Event(5, 300.0, EventKind.QUEUED, "L-2-cb", queue="repair", channel=Channel.CALLBACK),
        ]
    )
    assert [cb["callback_id"] for cb in board.agent_view("a001", 301.0)["callbacks"]] == ["L-1-cb"]
    assert board.snapshot(301.0)["queues"]  # the board still draws with promises folded
    # An unrelated contact's events leave the promises alone.
    board.record([Event(6, 302.0, EventKind.QUEUED, "c9", queue="repair")])
    assert len(board.agent_view("a001", 303.0)["callbacks"]) == 1


def test_a_promise_read_back_is_the_promise_made_and_fired_ones_are_not_kept() -> None:
    made = _promise("L-1-cb", "a001", 300.0)
    assert entry_of(made)["due_at"] == 300.0 and made.data["case_id"] == "c0"
    assert made.contact_id is None  # never closed as a contact by a restart's recovery
    assert unfired([made, _promise("L-2-cb", "a001", 1.0)], fired=["L-2-cb"]) == [made]
