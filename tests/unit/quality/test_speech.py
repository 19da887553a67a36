"""Speech analytics: the checks on a transcript, the pipeline over a stereo recording, the
transcription queue, transcript search and ``hotline quality transcribe`` (a fake model)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.config.evaluation import SpeechChecks
from hotline.config.validate import check_text
from hotline.quality import transcription
from hotline.quality.sampling import Candidate, plan_sample
from hotline.quality.speech import Utterance, check_call, check_script, check_timing
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.quality import Transcript
from hotline.store.models.telephony import Recording
from tests.unit.quality.speech_fakes import ToneTranscriber, write_call

RULES = SpeechChecks(
    greeting=["您好", "欢迎致电"],
    closing=["感谢您的来电"],
    recording_notice=["录音"],
    forbidden=["不归我管"],
    silence_s=5,
    over_talk_s=1,
)

# agent greets, notice, caller speaks over the agent's answer, a long silence, the closing
CALL = [
    ("agent", 0.5, 2.5, 1),
    ("caller", 3.0, 4.5, 2),
    ("caller", 5.0, 7.0, 3),
    ("agent", 6.0, 8.0, 4),
    ("agent", 15.0, 17.0, 5),
]


def test_a_call_that_keeps_the_script_has_no_script_flag() -> None:
    call = [
        Utterance("agent", 0.0, 2.0, "您好！欢迎致电"),
        Utterance("caller", 2.5, 4.0, "嗯"),
        Utterance("agent", 4.0, 6.0, "本次通话将被录音，感谢您的来电"),
    ]
    assert check_call(call, RULES) == []


def test_each_script_item_missed_is_flagged() -> None:
    call = [Utterance("caller", 0.0, 2.0, "喂？"), Utterance("agent", 30.0, 32.0, "不归 我管。")]
    kinds = [flag.kind for flag in check_script(call, RULES)]
    assert kinds == [
        "greeting_missing",
        "closing_missing",
        "recording_notice_missing",
        "forbidden_phrase",
    ]
    # the greeting counts only near the agent's first words, the closing near the last
    late = [Utterance("agent", 0.0, 1.0, "喂"), Utterance("agent", 20.0, 21.0, "您好")]
    early = [Utterance("agent", 0.0, 1.0, "感谢您的来电"), Utterance("agent", 60.0, 61.0, "嗯")]
    assert "greeting_missing" in [f.kind for f in check_script(late, RULES)]
    assert "closing_missing" in [f.kind for f in check_script(early, RULES)]


def test_the_job_number_must_be_the_agents_own() -> None:
    rules = SpeechChecks(job_number=True)
    said = [Utterance("agent", 0.0, 2.0, "工号３５２１为您服务")]  # full-width digits
    assert check_script(said, rules, job_number="3521") == []
    assert [f.detail for f in check_script(said, rules, job_number="1234")] == ["1234"]
    assert check_script(said, SpeechChecks(), job_number="1234") == []  # check off


def test_timing_finds_silences_and_over_talk_across_the_legs() -> None:
    call = [
        Utterance("agent", 0.0, 3.0, "a"),
        Utterance("agent", 2.0, 4.0, "b"),  # one party's own pieces may overlap
        Utterance("caller", 3.5, 6.0, "c"),  # 0.5 s over-talk: under the 1 s threshold
        Utterance("caller", 6.5, 9.0, "d"),
        Utterance("agent", 7.0, 8.5, "e"),  # 1.5 s over-talk
        Utterance("agent", 14.0, 15.0, "f"),  # 5 s silence from 9.0
    ]
    flags = check_timing(call, RULES)
    assert [(f.kind, f.start, f.end) for f in flags] == [
        ("over_talk", 7.0, 8.5),
        ("silence", 9.0, 14.0),
    ]


def test_the_pipeline_splits_the_legs_keeps_times_and_simplifies(tmp_path: Path) -> None:
    path = write_call(tmp_path / "v-1.wav", 18.0, CALL)
    heard = transcription.transcribe_recording(ToneTranscriber(), path, RULES)
    assert heard.seconds == pytest.approx(18.0)
    assert [(u.channel, u.text) for u in heard.utterances] == [
        ("agent", "您好，欢迎致电服务热线"),
        ("caller", "本次通话将被录音"),  # traditional in, simplified out
        ("caller", "我的洗衣机坏了"),
        ("agent", "这个不归我管"),
        ("agent", "感谢您的来电，再见"),
    ]
    assert heard.utterances[0].start == pytest.approx(0.5, abs=0.02)
    assert [(f.kind, round(f.start or 0)) for f in heard.flags] == [
        ("forbidden_phrase", 6),
        ("over_talk", 6),
        ("silence", 8),
    ]
    # the checks' phrases are compared in simplified form too
    traditional = RULES.model_copy(update={"recording_notice": ["錄音"], "forbidden": []})
    kinds = [
        f.kind
        for f in transcription.transcribe_recording(ToneTranscriber(), path, traditional).flags
    ]
    assert "recording_notice_missing" not in kinds
    # a voicemail is transcribed (and searchable) but not checked: no agent answered it
    assert transcription.transcribe_recording(ToneTranscriber(), path, None).flags == []


def test_a_recording_that_is_not_16_bit_pcm_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    path.write_bytes(b"RIFF....WAVE")
    with pytest.raises(ValueError, match=rf"^{path}: not a WAV recording"):
        transcription.read_legs(path)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(800))
    with pytest.raises(ValueError, match=rf"^{path}: 8-bit audio, expected 16-bit PCM"):
        transcription.read_legs(path)


@pytest.fixture
def database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, make_session_factory(engine)
    engine.dispose()


def _recording(session, tmp_path: Path, contact: str, agent: str, lines) -> Recording:
    path = write_call(tmp_path / f"{contact}.wav", 18.0, lines)
    row = Recording(
        contact_id=contact,
        agent_id=agent,
        path=str(path),
        seconds=18.0,
        channels=["caller", "agent"],
        recorded_at=1_700_000_000.0,
    )
    session.add(row)
    session.flush()
    return row


def test_the_queue_transcribes_each_recording_once_and_search_finds_it(
    db_session, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL (the claim locks its row there, skipping locked ones)."""
    session = db_session
    _recording(session, tmp_path, "v-1", "a001", CALL)
    _recording(session, tmp_path, "v-2", "a002", CALL[:3])
    assert transcription.enqueue(session=session) == 2
    assert transcription.enqueue(session=session) == 0  # queued once
    while claimed := transcription.claim(session=session):
        row, recording = claimed
        heard = transcription.transcribe_recording(ToneTranscriber(), Path(recording.path), RULES)
        transcription.finish(session=session, row=row, heard=heard, model="fake")
    session.commit()
    assert transcription.queued(session=session) == 0
    # traditional, spaces and punctuation in the query change nothing
    found = transcription.search(session=session, query="錄 音")
    assert [t.contact_id for t in found] == ["v-2", "v-1"]
    both = transcription.search(session=session, query="录音 不归我管")
    assert [t.contact_id for t in both] == ["v-1"]
    scoped = transcription.search(session=session, query="录音", agents={"a002"})
    assert [t.contact_id for t in scoped] == ["v-2"]
    assert transcription.search(session=session, query="100%_") == []  # LIKE escaped
    with pytest.raises(ValueError, match="nothing to search"):
        transcription.search(session=session, query=" ，。 ")
    flagged = transcription.flagged_contacts(session=session, contact_ids=["v-1", "v-9"])
    assert flagged == {"v-1": ["forbidden_phrase", "over_talk", "silence"]}


def test_a_recording_that_keeps_failing_leaves_the_queue(database, tmp_path: Path) -> None:
    _, factory = database
    with factory() as session:
        row = _recording(session, tmp_path, "v-1", "a001", CALL)
        Path(row.path).write_bytes(b"not audio")
        transcription.enqueue(session=session)
        for _ in range(transcription.MAX_ATTEMPTS):
            claimed = transcription.claim(session=session)
            assert claimed is not None
            transcription.fail(session=session, row=claimed[0], error="bad file")
        assert transcription.claim(session=session) is None
        failed = session.query(Transcript).one()
        assert (failed.state, failed.attempts, failed.error) == ("failed", 3, "bad file")


def test_flagged_calls_are_a_targeted_pick_of_the_sampling_plan() -> None:
    contacts = [
        Candidate(f"c{i}", "a1", "repair", "voice", 100.0, arrived_at=i * 3600.0) for i in range(10)
    ]
    contacts[7] = Candidate(
        "c7",
        "a1",
        "repair",
        "voice",
        100.0,
        arrived_at=7 * 3600.0,
        speech_flags=("forbidden_phrase",),
    )
    picks = plan_sample(
        contacts,
        per_agent=3,
        seed=1,
        long_call_s=600,
        long_calls=1,
        transfers=1,
        repeat_callers=1,
        speech_flags=1,
    )
    assert (picks[0].contact_id, picks[0].reason) == ("c7", "speech_flags")


def test_the_transcribe_command_works_the_queue_with_an_operator_model(
    database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, factory = database
    with factory() as session:
        _recording(session, tmp_path, "v-1", "a001", CALL)
        _recording(session, tmp_path, "m-1", "a001", CALL).kind = "voicemail"
        session.commit()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    model = "py:tests.unit.quality.speech_fakes:make"
    result = CliRunner().invoke(app, ["quality", "transcribe", "--model", model])
    assert result.exit_code == 0, result.output
    assert "2 recording(s) queued; 2 to transcribe" in result.output
    assert "2 transcribed, 0 failed (36 s of audio; real-time factor" in result.output
    with factory() as session:
        call, voicemail = session.query(Transcript).order_by(Transcript.id).all()
        assert (call.state, call.model, len(call.utterances)) == ("done", "fake:tones", 5)
        # the sample center's checks ran on the call: this agent said a forbidden phrase
        assert "forbidden_phrase" in {f["kind"] for f in call.flags}
        assert (voicemail.contact_id, voicemail.flags) == ("m-1", [])  # no agent: no checks
    again = CliRunner().invoke(app, ["quality", "transcribe", "--model", model])
    assert "0 recording(s) queued; 0 to transcribe" in again.output
    bad = CliRunner().invoke(app, ["quality", "transcribe", "--model", "py:nowhere"])
    assert bad.exit_code == 0  # nothing queued: the model is not even loaded
    with factory() as session:
        _recording(session, tmp_path, "v-2", "a001", CALL)
        session.commit()
    missing = CliRunner().invoke(app, ["quality", "transcribe", "--model", str(tmp_path)])
    assert missing.exit_code == 1
    assert f"--model: {tmp_path}: no model.bin" in missing.output


SPEECH = """\
center: {name: QA}
quality:
  speech:
    greeting: [您好, " ，"]
    silence_s: 0
    job_number: true
"""


def test_bad_speech_checks_are_reported_with_line_and_field() -> None:
    result = check_text(SPEECH, file="center.yaml")
    assert not result.ok
    found = {(p.line, p.field): p.rule for p in result.errors}
    assert (5, "quality.speech.silence_s") in found
    fixed = check_text(SPEECH.replace("silence_s: 0", "silence_s: 8"), file="center.yaml")
    assert [str(p) for p in fixed.errors] == [
        "center.yaml:4: quality.speech.greeting[1]: phrase ' ，' has nothing to match "
        "(only spaces or punctuation)",
        "center.yaml:6: quality.speech.job_number: the job-number check is on but no agent "
        "has a job_number",
    ]
