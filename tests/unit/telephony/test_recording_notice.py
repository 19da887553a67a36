"""The recording announcement: heard before the caller is queued, so before any recording."""

from __future__ import annotations

import asyncio

from tests.unit.telephony.test_call_center import Rig, _to_queue, run


def test_notice_plays_before_the_queue_and_the_recording() -> None:
    async def scenario(rig: Rig) -> None:
        await _to_queue(rig)
        contact = rig.contact
        played = rig.media.played(contact)
        notice = played.index("recording_notice")
        assert played[notice + 1] == "music_on_hold"  # then the queue
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle()
        commands = [c for c, p in rig.media.commands if p.get("call") == contact]
        notice_at = next(
            i
            for i, (c, p) in enumerate(rig.media.commands)
            if c == "play" and str(p["path"]).endswith("recording_notice.wav")
        )
        recording_at = next(
            i for i, (c, _) in enumerate(rig.media.commands) if c == "start_recording"
        )
        assert "start_recording" in commands
        assert notice_at < recording_at
        rig.center.hung_up("in-1")

    rig = run(scenario)
    steps = [e.data.get("action") for e in rig.sink.events if e.kind.value == "ivr_step"]
    assert "recording_notice" in steps
    kinds = [e.kind.value for e in rig.sink.events]
    notice = next(
        i
        for i, e in enumerate(rig.sink.events)
        if e.kind.value == "ivr_step" and e.data.get("action") == "recording_notice"
    )
    assert notice < kinds.index("queued") < kinds.index("recording_started")


def test_without_a_notice_the_caller_is_queued_at_once() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.settings.recording_notice = None
        await _to_queue(rig)
        assert "recording_notice" not in rig.media.played(rig.contact)
        assert rig.media.played(rig.contact)[-1] == "music_on_hold"
        rig.center.hung_up("in-1")

    rig = run(scenario)
    assert "queued" in rig.sink.kinds(rig.contact)


def test_caller_hanging_up_during_the_notice_is_never_queued() -> None:
    async def scenario(rig: Rig) -> None:
        rig.media.duration_ms = 200  # a long notice
        rig.center.incoming("in-1", caller="1", called="400", sdp="v=0")
        await rig.settle()
        await rig.key("2")  # English; settles until the menu prompt has played
        rig.center.dtmf(rig.contact, "caller", "2")  # installation
        await asyncio.sleep(0.3)  # the transfer prompt (0.2 s) ends; the notice is playing
        assert rig.media.played(rig.contact)[-1] == "recording_notice"
        rig.center.hung_up("in-1")

    rig = run(scenario)
    kinds = rig.sink.kinds(rig.contact)
    assert "queued" not in kinds and "abandoned" not in kinds
    assert rig.data("finished")[0]["outcome"] == "ivr_hangup"
