"""The pure web chat rules: phases, sequence numbers, resume, de-duplication, limits, tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.channels.chat.attachments import PNG_MAGIC, check_attachment
from hotline.channels.chat.conversation import (
    Acknowledge,
    AgentJoined,
    AgentWrote,
    Attached,
    AttachmentRef,
    Conversation,
    CustomerWrote,
    Effect,
    EndContact,
    Ended,
    Event,
    Kind,
    Message,
    Phase,
    Post,
    RecordSurvey,
    Refuse,
    ResumeRefused,
    Sender,
    SurveyAnswered,
    messages_after,
    replay,
    transition,
)
from hotline.channels.chat.limits import SlidingWindow
from hotline.channels.chat.tokens import read_conversation_token, sign_conversation_token
from hotline.config.chat import ChatSettings


def run(
    events: list[Event], settings: ChatSettings | None = None
) -> tuple[Conversation, list[Effect]]:
    state = Conversation(id="c1", started_at=0.0)
    effects: list[Effect] = []
    for event in events:
        state, out = transition(state, event, settings=settings)
        effects.extend(out)
    return state, effects


def posted(effects: list[Effect]) -> list[Message]:
    return [e.message for e in effects if isinstance(e, Post)]


def test_a_chat_from_waiting_to_rated() -> None:
    state, effects = run(
        [
            CustomerWrote(at=1.0, text="洗衣机漏水", client_id="k1"),
            AgentJoined(at=2.0, agent_id="a001"),
            AgentWrote(at=3.0, agent_id="a001", text="请问型号？"),
            CustomerWrote(at=4.0, text="XQB80", client_id="k2"),
            Ended(at=5.0, by=Sender.AGENT, agent_id="a001"),
            SurveyAnswered(at=6.0, score=4),
        ]
    )
    log = [(m.seq, m.sender.value, m.kind.value, m.body) for m in posted(effects)]
    assert log == [
        (1, "customer", "text", "洗衣机漏水"),
        (2, "system", "joined", ""),
        (3, "agent", "text", "请问型号？"),
        (4, "customer", "text", "XQB80"),
        (5, "system", "ended", "agent"),
    ]
    assert EndContact(abandoned=False) in effects
    assert RecordSurvey(score=4, scale_max=5, agent_id="a001") in effects
    assert (state.phase, state.last_seq, state.survey_score) == (Phase.ENDED, 5, 4)


def test_a_customer_who_leaves_before_an_agent_joins_abandons() -> None:
    state, effects = run([CustomerWrote(at=1.0, text="hi"), Ended(at=9.0, by=Sender.CUSTOMER)])
    assert effects[-1] == EndContact(abandoned=True)
    assert state.ended_by is Sender.CUSTOMER


@pytest.mark.parametrize(
    ("events", "rule"),
    [
        (
            [AgentWrote(at=1.0, agent_id="a001", text="hi")],
            "the agent has not joined this conversation",
        ),
        (
            [AgentJoined(at=1.0, agent_id="a001"), AgentWrote(at=2.0, agent_id="a002", text="hi")],
            "the agent has not joined this conversation",
        ),
        ([CustomerWrote(at=1.0, text=" \n ")], "a message needs some text"),
        (
            [Ended(at=1.0, by=Sender.CUSTOMER), CustomerWrote(at=2.0, text="hi")],
            "this chat has ended",
        ),
        ([SurveyAnswered(at=1.0, score=5)], "the survey comes after the chat has ended"),
        (
            [Ended(at=1.0, by=Sender.CUSTOMER), SurveyAnswered(at=2.0, score=6)],
            "a rating is a whole number 1 to 5",
        ),
        (
            [
                Ended(at=1.0, by=Sender.CUSTOMER),
                SurveyAnswered(at=2.0, score=5),
                SurveyAnswered(at=3.0, score=1),
            ],
            "this chat has already been rated",
        ),
        (
            [AgentJoined(at=1.0, agent_id="a001"), Ended(at=2.0, by=Sender.AGENT, agent_id="a002")],
            "only the agent on the chat ends it",
        ),
    ],
)
def test_what_is_refused_and_why(events: list[Event], rule: str) -> None:
    before, _ = run(events[:-1])
    after, effects = transition(before, events[-1])
    assert [e.rule for e in effects if isinstance(e, Refuse)] == [rule]
    assert after == before  # a refusal changes nothing


def test_a_message_over_the_limit_is_refused_with_its_length() -> None:
    _, effects = run([CustomerWrote(at=1.0, text="x" * 11)], ChatSettings(max_message_chars=10))
    assert effects == [Refuse("text", "a message has at most 10 characters; this one has 11")]


def test_a_resent_message_is_acknowledged_with_its_first_number_not_posted_again() -> None:
    state, effects = run(
        [
            CustomerWrote(at=1.0, text="hi", client_id="k1"),
            CustomerWrote(at=2.0, text="again", client_id="k2"),
            CustomerWrote(at=3.0, text="hi", client_id="k1"),
        ]
    )
    assert effects[-1] == Acknowledge("k1", 1)
    assert state.last_seq == 2


def test_an_attachment_is_a_numbered_message() -> None:
    ref = AttachmentRef(id="f1", name="leak.png", content_type="image/png", size=10)
    _, effects = run([Attached(at=1.0, sender=Sender.CUSTOMER, attachment=ref, client_id="k1")])
    assert posted(effects)[0].attachment == ref and posted(effects)[0].kind is Kind.ATTACHMENT


EVENTS = st.lists(
    st.one_of(
        st.builds(
            CustomerWrote,
            at=st.just(1.0),
            text=st.sampled_from(["hi", "", "x" * 3000]),
            client_id=st.sampled_from([None, "k1", "k2", "k3"]),
        ),
        st.builds(
            AgentWrote,
            at=st.just(1.0),
            agent_id=st.sampled_from(["a001", "a002"]),
            text=st.just("ok"),
            client_id=st.sampled_from([None, "d1", "d2"]),
        ),
        st.builds(AgentJoined, at=st.just(1.0), agent_id=st.sampled_from(["a001", "a002"])),
        st.builds(
            Ended,
            at=st.just(1.0),
            by=st.sampled_from(list(Sender)),
            agent_id=st.sampled_from([None, "a001"]),
        ),
        st.builds(SurveyAnswered, at=st.just(1.0), score=st.integers(0, 6)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(EVENTS, st.data())
def test_numbers_are_gapless_nothing_follows_the_end_and_resume_misses_nothing(
    events: list[Event], data: st.DataObject
) -> None:
    state, effects = run(events)
    messages = posted(effects)
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    assert state.last_seq == len(messages)
    ends = [i for i, m in enumerate(messages) if m.kind is Kind.ENDED]
    assert ends in ([], [len(messages) - 1])  # at most one end, and it is the last message
    assert sum(isinstance(e, EndContact) for e in effects) == len(ends)
    assert sum(isinstance(e, RecordSurvey) for e in effects) <= 1
    client_ids = [m.client_id for m in messages if m.client_id is not None]
    assert len(client_ids) == len(set(client_ids))  # a re-sent message is never posted twice
    seen = data.draw(st.integers(0, state.last_seq))
    assert [m.seq for m in messages_after(messages, seen, last_seq=state.last_seq)] == list(
        range(seen + 1, state.last_seq + 1)
    )
    rebuilt = replay(Conversation(id="c1", started_at=0.0), messages)
    assert (rebuilt.phase, rebuilt.last_seq, rebuilt.agent_id) == (
        state.phase,
        state.last_seq,
        state.agent_id,
    )
    assert rebuilt.client_ids == state.client_ids


def test_resuming_from_a_number_never_sent_is_refused() -> None:
    with pytest.raises(ResumeRefused, match="after=4"):
        messages_after([], 4, last_seq=3)


@pytest.mark.parametrize(
    ("name", "content_type", "data", "problem"),
    [
        ("a.png", "image/png", PNG_MAGIC + b"x", None),
        ("a.jpg", "image/jpeg", b"\xff\xd8\xff\xe0rest", None),
        ("a.pdf", "application/pdf", b"%PDF-1.7", None),
        ("a.txt", "text/plain", "中文".encode(), None),
        ("a.txt", "text/plain", b"\xff\xfe", "a text file must be UTF-8"),
        ("a.png", "image/png", b"GIF89a", "the file's content is not image/png"),
        ("a.png", "image/png", b"", "the file is empty"),
        ("../a.png", "image/png", PNG_MAGIC, "a file name has 1 to 200 characters and no slashes"),
        ("a.svg", "image/svg+xml", b"<svg/>", "files of type image/svg+xml are not accepted"),
        (
            "a.png",
            "image/png",
            PNG_MAGIC + b"x" * 100,
            "a file may have at most 50 bytes; this one has 108",
        ),
    ],
)
def test_attachments_are_checked_for_type_size_and_content(
    name: str, content_type: str, data: bytes, problem: str | None
) -> None:
    found = check_attachment(
        name=name,
        content_type=content_type,
        data=data,
        settings=ChatSettings(max_attachment_bytes=50),
    )
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


def test_a_sliding_window_counts_per_key_and_forgets_the_old() -> None:
    window = SlidingWindow(limit=3, window_s=10.0)
    assert [window.allow("a", t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert window.allow("b", 3)  # another address has its own count
    assert window.retry_after("a", 3) == 7.0
    assert window.allow("a", 10.5)


def test_a_token_opens_its_conversation_only_until_it_expires() -> None:
    token = sign_conversation_token("L1-000007", expires_at=100.0, secret=b"s")
    assert read_conversation_token(token, secret=b"s", now=50.0) == "L1-000007"
    assert read_conversation_token(token, secret=b"other", now=50.0) is None
    assert read_conversation_token(token, secret=b"s", now=100.0) is None
    forged = token.replace("L1-000007", "L1-000008")
    assert read_conversation_token(forged, secret=b"s", now=50.0) is None
    assert read_conversation_token("garbage", secret=b"s", now=50.0) is None


def test_widget_settings_are_checked_before_they_take_effect() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        ChatSettings.model_validate(
            {
                "allowed_origins": ["https://shop.example.com", "*.example.com"],
                "max_attachment_bytes": 0,
            }
        )
    places = {e["loc"] for e in refused.value.errors()}
    assert places == {("allowed_origins", 1), ("max_attachment_bytes",)}


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (
            "  queue: chat\n",
            "chat.queue",
            "queue 'voice-nowhere' is not one of the center's queues",
        ),
        (
            "  queue: chat\n",
            "chat.queue",
            "queue 'repair' takes voice contacts; the widget needs a chat queue",
        ),
        (
            "  allowed_origins: [https://www.example-appliances.cn]\n",
            "chat.allowed_origins[0]",
            "an origin is scheme://host[:port] with no path",
        ),
    ],
)
def test_the_center_file_names_the_bad_widget_setting_and_its_line(
    change: str, field: str, rule: str
) -> None:
    from pathlib import Path

    from hotline.config.validate import check_text

    sample = (
        Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
    )
    text = sample.read_text(encoding="utf-8")
    assert change in text
    replacement = {
        "chat.queue": "  queue: voice-nowhere\n"
        if "voice-nowhere" in rule
        else "  queue: repair\n",
        "chat.allowed_origins[0]": "  allowed_origins: [https://www.example-appliances.cn/shop]\n",
    }[field]
    result = check_text(text.replace(change, replacement), file="center.yaml")
    assert not result.ok
    [problem] = [p for p in result.errors if p.field == field]
    assert problem.rule.startswith(rule) and problem.file == "center.yaml"
    line = text.splitlines().index(change.rstrip("\n")) + 1
    assert problem.line == line
