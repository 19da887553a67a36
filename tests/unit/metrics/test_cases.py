"""Cases (#16): a conversation that moves channel (a chat, then the callback booked from it)
stays one case. The KPI report counts it once (``cases``, in the group of its first queued
contact) and FCR judges it once: the callback is not the chat's repeat contact, a contact
*outside* the case within the window is. Contacts without a case id are their own cases, so
every figure of data without case ids is as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hotline.core.events import Channel, Event, EventKind
from hotline.metrics.compute import frame_to_csv, queue_figures, records_to_frame
from hotline.metrics.importer import read_contact_records
from hotline.metrics.records import ContactRecord, fold_events

T0 = 1_772_409_600.0  # 2026-03-02 00:00 UTC
HOUR = 3600.0


def answered_contact(
    contact_id: str, channel: str, at: float, *, case_id: str | None = None
) -> ContactRecord:
    return ContactRecord(
        contact_id=contact_id,
        channel=channel,
        customer="13800138000",
        arrived_at=at,
        queued_at=at,
        answered_at=at + 5.0,
        queue="chat" if channel == "chat" else "installation",
        agent="a004",
        outcome="answered",
        talk_s=60.0,
        case_id=case_id,
    )


CHAT = answered_contact("chat-1", "chat", T0)
CALLBACK = answered_contact("chat-1-cb", "callback", T0 + 600, case_id="chat-1")


def _figures(records: list[ContactRecord], by: tuple[str, ...] = ()) -> list[dict[str, object]]:
    return queue_figures(records_to_frame(records), interval="day", by=by).rows()


def test_a_chat_and_its_callback_are_one_case_and_the_callback_is_no_repeat() -> None:
    [whole] = _figures([CHAT, CALLBACK])
    assert (whole["offered"], whole["answered"], whole["cases"]) == (2, 2, 1)
    assert whole["fcr"] == 1.0
    # By channel the case counts where it began: the chat; the callback adds no case.
    by_channel = {
        r["channel"]: (r["offered"], r["cases"], r["fcr"])
        for r in _figures([CHAT, CALLBACK], by=("channel",))
    }
    assert by_channel == {"chat": (1, 1, 1.0), "callback": (1, 0, None)}


def test_a_contact_outside_the_case_within_the_window_is_a_repeat() -> None:
    later = answered_contact("call-9", "voice", T0 + 2 * HOUR)
    [whole] = _figures([CHAT, CALLBACK, later])
    assert (whole["offered"], whole["cases"]) == (3, 2)
    # Two cases: the chat's (repeated by the call) and the call's own.
    assert whole["fcr"] == pytest.approx(0.5)
    # The window runs from the case's last contact: a call 23 h after the callback (more
    # than 24 h after the chat) still repeats the case.
    late = answered_contact("call-9", "voice", T0 + 600 + 23 * HOUR)
    assert _figures([CHAT, CALLBACK, late])[0]["fcr"] == pytest.approx(0.5)
    gone = answered_contact("call-9", "voice", T0 + 600 + 25 * HOUR)
    assert _figures([CHAT, CALLBACK, gone])[0]["fcr"] == 1.0


def test_without_case_ids_every_figure_is_as_before() -> None:
    plain = [CHAT, replace(CALLBACK, case_id=None)]
    [whole] = _figures(plain)
    # Each contact its own case; the callback repeats the chat, as FCR always counted it.
    assert (whole["offered"], whole["cases"], whole["fcr"]) == (2, 2, 0.5)


def test_the_callbacks_arrived_event_names_its_case() -> None:
    log = [
        Event(1, T0, EventKind.ARRIVED, "cb", channel=Channel.CALLBACK,
              data={"customer": "13800138000", "case_id": "chat-1"}),
        Event(2, T0 + 1, EventKind.FINISHED, "cb", data={"outcome": "abandoned"}),
    ]  # fmt: skip
    [record] = fold_events(log)
    assert record.case_id == "chat-1"
    # A callback the engine made for a queued caller names the caller's contact.
    engine_made = Event(1, T0, EventKind.ARRIVED, "c7-cb", data={"callback_for": "c7"})
    [record] = fold_events([engine_made], include_unfinished=True)
    assert record.case_id == "c7"


def test_case_id_is_an_optional_column_of_the_contact_record_file(tmp_path: Path) -> None:
    written = tmp_path / "cases.csv"
    assert frame_to_csv(records_to_frame([CHAT, CALLBACK]), written) == 2
    assert [r.case_id for r in read_contact_records(written).records] == [None, "chat-1"]
    old = tmp_path / "old.csv"
    old.write_text(
        "contact_id,arrived_at,outcome\nc1,2026-03-02T00:00:00+00:00,closed\n", encoding="utf-8"
    )
    assert [r.case_id for r in read_contact_records(old).records] == [None]
