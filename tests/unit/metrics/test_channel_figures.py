"""Channel figures (#16): volume, service level, AHT and CSAT for each channel — voice, chat,
e-mail and SMS — from the same contact records and survey answers as every other report."""

from __future__ import annotations

import pytest

from hotline.core.events import Channel, Event, EventKind
from hotline.metrics.compute import experience_figures, queue_figures, records_to_frame
from hotline.metrics.records import ContactRecord

CHANNELS = ("voice", "chat", "email", "sms")


def _answered(contact_id: str, channel: str, *, wait: float, handle: float) -> ContactRecord:
    return ContactRecord(
        contact_id=contact_id,
        channel=channel,
        arrived_at=0.0,
        queued_at=0.0,
        answered_at=wait,
        queue="general",
        agent="a001",
        outcome="answered",
        talk_s=handle,
    )


def test_volume_service_level_and_handle_time_per_channel() -> None:
    records = []
    for index, channel in enumerate(CHANNELS):
        # one contact answered at once, one after 60 s (past the 20 s threshold)
        records.append(_answered(f"{channel}-1", channel, wait=5.0, handle=100.0 * (index + 1)))
        records.append(_answered(f"{channel}-2", channel, wait=60.0, handle=100.0 * (index + 1)))
    records.append(
        ContactRecord(
            contact_id="sms-3",
            channel="sms",
            arrived_at=0.0,
            queued_at=0.0,
            abandoned_at=90.0,
            queue="general",
            outcome="abandoned",
        )
    )
    report = queue_figures(records_to_frame(records), interval="day", by=("channel",))
    rows = {row["channel"]: row for row in report.rows()}
    assert sorted(rows) == sorted(CHANNELS)
    assert {c: rows[c]["offered"] for c in CHANNELS} == {
        "voice": 2,
        "chat": 2,
        "email": 2,
        "sms": 3,
    }
    assert {c: rows[c]["aht_s"] for c in CHANNELS} == {
        "voice": 100.0,
        "chat": 200.0,
        "email": 300.0,
        "sms": 400.0,
    }
    assert rows["voice"]["service_level"] == 0.5
    assert rows["sms"]["service_level"] == pytest.approx(1 / 3)  # the abandon counts against


def _arrived(seq: int, contact_id: str, channel: Channel) -> Event:
    return Event(seq, float(seq), EventKind.ARRIVED, contact_id, queue="general", channel=channel)


def _survey(seq: int, contact_id: str, score: int, channel: Channel | None) -> Event:
    return Event(
        seq,
        100.0 + seq,
        EventKind.SURVEY_ANSWERED,
        contact_id,
        queue="general",
        channel=channel,
        data={"score": score, "scale_max": 5, "survey": "csat"},
    )


def test_csat_per_channel_counts_each_answer_on_the_channel_its_contact_arrived_on() -> None:
    """The IVR's survey after a call names no channel, and an SMS conversation's end-of-chat
    survey is recorded by the chat relay as a chat's: both count on the channel the contact
    arrived on."""
    log = [
        _arrived(1, "v1", Channel.VOICE),
        _arrived(2, "c1", Channel.CHAT),
        _arrived(3, "e1", Channel.EMAIL),
        _arrived(4, "s1", Channel.SMS),
        _arrived(5, "s2", Channel.SMS),
        _survey(6, "v1", 5, None),
        _survey(7, "c1", 4, Channel.CHAT),
        _survey(8, "e1", 2, Channel.EMAIL),
        _survey(9, "s1", 5, Channel.CHAT),
        _survey(10, "s2", 1, Channel.CHAT),
        _survey(11, "x1", 5, Channel.CHAT),  # its arrival is before the log: its own channel
    ]
    frame = experience_figures(log, interval="day", by=("channel",))
    rows = {row["channel"]: row for row in frame.to_dicts()}
    assert {c: (rows[c]["surveys"], rows[c]["csat"]) for c in rows} == {
        "voice": (1, 1.0),
        "chat": (2, 1.0),
        "email": (1, 0.0),
        "sms": (2, 0.5),
    }
    with pytest.raises(ValueError, match="choose from queue, agent, channel"):
        experience_figures(log, by=("team",))
