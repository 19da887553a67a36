"""The IVR interpreter, driven event by event like the telephony driver does."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.config.flow import Flow, OpeningHours, prompts_of, sample_flow
from hotline.ivr.interpreter import (
    AgentHungUp,
    CallerHungUp,
    CallStarted,
    DigitPressed,
    Effect,
    Enqueue,
    Hangup,
    Interpreter,
    IvrState,
    PlayPrompts,
    PromptEnded,
    StartTimer,
    Step,
    StopPrompts,
    SurveyAnswered,
    TimerFired,
)

MONDAY_10AM = datetime(2026, 3, 2, 10, 0)
SPRING_FESTIVAL = datetime(2026, 2, 17, 10, 0)  # closed all day
SPRING_FESTIVAL_2 = datetime(2026, 2, 18, 11, 0)  # holiday hours 10:00-16:00


class Call:
    """A tiny driver: keeps the state and the last play/timer tokens, records effects."""

    def __init__(self, flow: Flow | None = None, **start: object) -> None:
        self.ivr = Interpreter(flow or sample_flow())
        event = CallStarted(at=0.0, local_time=start.pop("local_time", MONDAY_10AM), **start)  # type: ignore[arg-type]
        self.state, self.effects = self.ivr.start(event)
        self.log: list[Effect] = list(self.effects)

    def send(self, event: object) -> list[Effect]:
        self.state, self.effects = self.ivr.transition(self.state, event)  # type: ignore[arg-type]
        self.log.extend(self.effects)
        return self.effects

    def last_play(self) -> PlayPrompts:
        plays = [e for e in self.log if isinstance(e, PlayPrompts)]
        return plays[-1]

    def last_timer(self) -> StartTimer:
        timers = [e for e in self.log if isinstance(e, StartTimer)]
        return timers[-1]

    def end_prompt(self) -> list[Effect]:
        return self.send(PromptEnded(at=1.0, token=self.last_play().token))

    def fire_timer(self) -> list[Effect]:
        return self.send(TimerFired(at=2.0, token=self.last_timer().token))

    def press(self, keys: str) -> None:
        for key in keys:
            self.send(DigitPressed(at=1.5, digit=key))

    def to_main_menu(self, language_key: str = "1") -> None:
        self.press(language_key)
        assert self.state.node == "welcome"
        self.end_prompt()
        assert self.state.node == "main"


def of_type(effects: list[Effect], kind: type) -> list[Effect]:
    return [e for e in effects if isinstance(e, kind)]


def test_call_starts_with_language_prompt_in_default_language() -> None:
    call = Call()
    assert call.effects[-1] == PlayPrompts(("language",), "zh-CN", 1)
    assert call.state.phase == "prompt"


def test_language_choice_sets_english_and_barges_in() -> None:
    call = Call()
    effects = call.send(DigitPressed(at=1.0, digit="2"))
    assert effects[0] == StopPrompts()
    assert call.state.language == "en"
    assert call.last_play() == PlayPrompts(("welcome",), "en", 2)


def test_language_defaults_after_silence_and_retries() -> None:
    call = Call()
    call.end_prompt()
    assert isinstance(call.effects[-1], StartTimer)
    assert call.effects[-1].seconds == 4
    call.fire_timer()  # first silence: replay (retries=1)
    assert call.last_play().prompts == ("language",)
    call.end_prompt()
    call.fire_timer()  # second silence: give up, default language
    assert call.state.language == "zh-CN"
    assert call.state.node == "welcome"


def test_invalid_language_key_replays_prompt() -> None:
    call = Call()
    call.end_prompt()
    call.press("9")
    assert call.state.node == "language"
    assert call.last_play().prompts == ("language",)
    assert call.state.attempt == 1


def test_emergency_announcement_plays_when_switched_on() -> None:
    call = Call(emergency_prompt="emergency_flood")
    call.press("1")
    assert call.last_play().prompts == ("emergency_flood",)
    assert any(isinstance(e, Step) and e.action == "announced" for e in call.effects)
    call.end_prompt()
    assert call.state.node == "welcome"


def test_emergency_node_is_skipped_when_switched_off() -> None:
    call = Call()
    call.press("1")
    assert call.state.node == "welcome"
    assert not [p for p in of_type(call.log, PlayPrompts) if "emergency" in p.prompts]  # type: ignore[union-attr]


def test_closed_on_holiday_plays_closed_message_and_hangs_up() -> None:
    call = Call(local_time=SPRING_FESTIVAL)
    call.press("1")
    assert call.state.node == "closed"
    assert call.last_play().prompts == ("closed",)
    effects = call.end_prompt()
    assert effects == [Hangup("closed")]
    assert call.state.phase == "finished"


def test_holiday_with_own_hours_is_open() -> None:
    call = Call(local_time=SPRING_FESTIVAL_2)
    call.press("1")
    assert call.state.node == "welcome"


def test_closed_after_hours_on_a_weekday() -> None:
    call = Call(local_time=datetime(2026, 3, 2, 21, 30))
    call.press("1")
    assert call.state.node == "closed"


def test_menu_routes_to_installation_queue_with_attached_data() -> None:
    call = Call()
    call.to_main_menu(language_key="2")
    call.end_prompt()
    call.press("2")
    assert call.state.node == "q_installation"
    call.end_prompt()  # "transfer" prompt
    [enqueue] = of_type(call.effects, Enqueue)
    assert enqueue == Enqueue("installation", 0, "en", {"menu": "2", "language": "en"})
    assert call.state.phase == "queued"


def test_menu_invalid_key_then_retries_exhausted_goes_to_failure_branch() -> None:
    call = Call()
    call.to_main_menu()
    call.end_prompt()
    call.press("7")
    assert call.last_play().prompts == ("invalid", "menu_main")
    call.end_prompt()
    call.fire_timer()
    assert call.last_play().prompts == ("no_input", "menu_main")
    call.end_prompt()
    call.press("#")  # third failure, retries=2
    assert call.state.node == "q_repair"
    assert any(isinstance(e, Step) and e.action == "failed" for e in call.log)


def test_stale_timer_and_prompt_tokens_are_ignored() -> None:
    call = Call()
    call.to_main_menu()
    call.end_prompt()
    stale = call.last_timer().token
    call.press("7")  # replays the menu: the running timer is superseded
    before = call.state
    assert call.send(TimerFired(at=3.0, token=stale)) == []
    assert call.send(PromptEnded(at=3.0, token=stale - 1)) == []
    assert call.state == before


def test_serial_number_entry_with_terminator() -> None:
    call = Call()
    call.to_main_menu()
    call.press("1")
    assert call.state.node == "serial"
    call.end_prompt()
    call.press("12345678#")
    assert call.state.variables["serial_number"] == "12345678"
    call.end_prompt()
    [enqueue] = of_type(call.effects, Enqueue)
    assert enqueue.queue == "repair"  # type: ignore[union-attr]
    assert enqueue.data == {"menu": "1", "serial_number": "12345678", "language": "zh-CN"}  # type: ignore[union-attr]


def test_serial_number_finishes_at_max_digits() -> None:
    call = Call()
    call.to_main_menu()
    call.press("1")
    call.press("123456789012")
    assert call.state.variables["serial_number"] == "123456789012"


def test_serial_number_finishes_on_inter_digit_timeout() -> None:
    call = Call()
    call.to_main_menu()
    call.press("1")
    call.end_prompt()
    assert call.last_timer().seconds == 8.0  # first-digit timeout
    call.press("1234567")
    assert call.last_timer().seconds == 4.0  # inter-digit timeout
    call.fire_timer()
    assert call.state.variables["serial_number"] == "1234567"


def test_short_serial_number_is_refused_and_reprompted() -> None:
    call = Call()
    call.to_main_menu()
    call.press("1")
    call.press("123#")
    assert "serial_number" not in call.state.variables
    assert call.last_play().prompts == ("invalid", "enter_serial")
    assert call.state.digits == ""


def test_survey_after_agent_hangs_up_records_score() -> None:
    call = Call()
    call.to_main_menu()
    call.press("3")
    call.end_prompt()
    assert call.state.phase == "queued"
    assert call.send(DigitPressed(at=5.0, digit="5")) == []  # keys while talking are not ours
    call.send(AgentHungUp(at=60.0))
    assert call.last_play().prompts == ("survey",)
    call.press("4")
    assert SurveyAnswered(4, 5) in call.effects
    assert call.last_play().prompts == ("survey_thanks",)
    assert call.end_prompt() == [Hangup(None)]
    after = call.state  # read again: the phase moved on since the assertion above
    assert after.phase == "finished"


def test_survey_refuses_out_of_scale_and_gives_up_after_silence() -> None:
    call = Call()
    call.to_main_menu()
    call.press("2")
    call.end_prompt()
    call.send(AgentHungUp(at=60.0))
    call.end_prompt()
    call.press("9")  # out of 1..5
    assert call.last_play().prompts == ("invalid", "survey")
    call.end_prompt()
    effects = call.fire_timer()
    assert Hangup(None) in effects
    assert not of_type(call.log, SurveyAnswered)


def test_caller_hang_up_finishes_and_later_events_do_nothing() -> None:
    call = Call()
    effects = call.send(CallerHungUp(at=2.0))
    assert isinstance(effects[0], Step)
    assert effects[0].action == "caller_hung_up"
    assert call.send(DigitPressed(at=3.0, digit="1")) == []
    assert call.state.phase == "finished"


def test_call_started_twice_is_an_error() -> None:
    call = Call()
    with pytest.raises(ValueError, match="CallStarted"):
        call.send(CallStarted(at=1.0, local_time=MONDAY_10AM))


def test_flow_with_undefined_target_is_refused() -> None:
    with pytest.raises(ValidationError, match="undefined node 'nowhere'"):
        Flow.model_validate(
            {
                "id": "x",
                "start": "a",
                "nodes": {"a": {"type": "play", "prompts": ["p"], "next": "nowhere"}},
            }
        )


def test_flow_with_unknown_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown language 'fr'"):
        Flow.model_validate(
            {
                "id": "x",
                "start": "a",
                "nodes": {
                    "a": {
                        "type": "language",
                        "prompts": ["p"],
                        "options": {"1": "fr"},
                        "default": "en",
                        "next": "b",
                    },
                    "b": {"type": "hangup"},
                },
            }
        )


def test_menu_option_must_be_a_dtmf_key() -> None:
    with pytest.raises(ValidationError, match="one DTMF key"):
        Flow.model_validate(
            {
                "id": "x",
                "start": "a",
                "nodes": {
                    "a": {
                        "type": "menu",
                        "prompts": ["p"],
                        "options": {"12": "b"},
                        "on_failure": "b",
                    },
                    "b": {"type": "hangup"},
                },
            }
        )


def test_loop_of_immediate_nodes_hangs_up_as_failed() -> None:
    always = OpeningHours(
        weekly={d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    flow = Flow.model_validate(
        {
            "id": "loop",
            "start": "h1",
            "nodes": {
                "h1": {"type": "hours", "hours": always, "open": "h2", "closed": "h2"},
                "h2": {"type": "emergency", "next": "h1"},
            },
        }
    )
    call = Call(flow)
    assert call.effects[-1] == Hangup("failed")
    assert call.state.phase == "finished"


def test_opening_hours_edges() -> None:
    hours = OpeningHours(
        weekly={"sat": ["09:00-12:00", "13:00-18:00"]}, holidays={date(2026, 3, 7): []}
    )
    assert hours.is_open(datetime(2026, 3, 14, 9, 0))
    assert not hours.is_open(datetime(2026, 3, 14, 12, 30))
    assert not hours.is_open(datetime(2026, 3, 14, 18, 0))
    assert not hours.is_open(datetime(2026, 3, 7, 10, 0))  # holiday closed
    assert not hours.is_open(datetime(2026, 3, 16, 10, 0))  # Monday not listed
    with pytest.raises(ValidationError):
        OpeningHours(weekly={"sat": ["18:00-09:00"]})
    with pytest.raises(ValidationError):
        OpeningHours(weekly={"someday": ["09:00-10:00"]})


def test_prompts_of_lists_every_prompt_the_flow_can_play() -> None:
    assert prompts_of(sample_flow()) == {
        "closed",
        "emergency",
        "enter_serial",
        "invalid",
        "language",
        "menu_main",
        "no_input",
        "survey",
        "survey_thanks",
        "transfer",
        "welcome",
    }


EVENTS = st.one_of(
    st.builds(DigitPressed, at=st.just(1.0), digit=st.sampled_from(list("0123456789*#"))),
    st.builds(PromptEnded, at=st.just(1.0), token=st.integers(0, 12)),
    st.builds(TimerFired, at=st.just(1.0), token=st.integers(0, 12)),
    st.builds(AgentHungUp, at=st.just(1.0)),
    st.builds(CallerHungUp, at=st.just(1.0)),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(EVENTS, max_size=60), hour=st.integers(0, 23))
def test_any_event_sequence_keeps_the_machine_consistent(events: list[object], hour: int) -> None:
    ivr = Interpreter(sample_flow())
    state, effects = ivr.start(CallStarted(at=0.0, local_time=datetime(2026, 3, 2, hour, 0)))
    tokens = [e.token for e in effects if isinstance(e, PlayPrompts | StartTimer)]
    enqueued = 0
    answers = 0
    finished_state: IvrState | None = None
    for event in events:
        state, effects = ivr.transition(state, event)  # type: ignore[arg-type]
        tokens += [e.token for e in effects if isinstance(e, PlayPrompts | StartTimer)]
        enqueued += len(of_type(effects, Enqueue))
        answers += len(of_type(effects, SurveyAnswered))
        if finished_state is not None:
            assert effects == []  # finished is absorbing
            assert state == finished_state
        if state.phase == "finished" and finished_state is None:
            finished_state = state
    assert tokens == sorted(set(tokens))  # every play/timer gets a fresh, rising token
    assert enqueued <= 1
    assert answers <= 1
    assert state.node in {*sample_flow().nodes, "survey"}
