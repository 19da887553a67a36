"""The IVR interpreter: a pure state machine that runs a :class:`~hotline.config.flow.Flow`.

``transition(state, event) -> (state, effects)``. The telephony driver feeds it what happened
on the call (the call started, a prompt finished playing, the caller pressed a key, a timer
fired, someone hung up) and carries out the effects it returns (play these prompts, start a
timer, put the caller in a queue, record the survey answer, hang up). It never touches the
network, the media server or a clock, so the same flow runs live, in the simulator and in
tests.

Timers and prompt playbacks carry a *token*: every new prompt or timer takes the next token,
and events that arrive with an older token are stale (the caller already barged in, or the
timer was superseded) and are ignored. That keeps races between the media server and the
timer wheel out of the flow logic.

>>> from hotline.config.flow import sample_flow
>>> from datetime import datetime
>>> ivr = Interpreter(sample_flow())
>>> state, effects = ivr.start(CallStarted(at=0.0, local_time=datetime(2026, 3, 2, 10, 0)))
>>> effects[-1]
PlayPrompts(prompts=('language',), language='zh-CN', token=1)
>>> state, effects = ivr.transition(state, DigitPressed(at=1.0, digit="2"))
>>> state.language, state.node, effects[-1]
('en', 'welcome', PlayPrompts(prompts=('welcome',), language='en', token=2))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from hotline.config.flow import (
    CollectNode,
    EmergencyNode,
    Flow,
    HangupNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    Node,
    PlayNode,
    QueueNode,
)

# An immediate chain (hours → emergency → …) longer than this is a loop in the flow.
MAX_IMMEDIATE_HOPS = 64

Phase = Literal["idle", "prompt", "wait", "queued", "survey", "finished"]


# ---------------------------------------------------------------- events (inputs)


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A caller reached the IVR. ``local_time`` is the arrival in the center's time zone."""

    at: float
    local_time: datetime
    emergency_prompt: str | None = None
    caller: str = ""


@dataclass(frozen=True, slots=True)
class PromptEnded:
    """The prompts started with ``token`` finished playing."""

    at: float
    token: int


@dataclass(frozen=True, slots=True)
class DigitPressed:
    """The caller pressed a DTMF key (RFC 4733 event or in-band tone)."""

    at: float
    digit: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer started with ``token`` ran out."""

    at: float
    token: int


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller hung up."""

    at: float


@dataclass(frozen=True, slots=True)
class AgentHungUp:
    """The agent ended the conversation; the caller is still on the line (survey time)."""

    at: float


IvrEvent = CallStarted | PromptEnded | DigitPressed | TimerFired | CallerHungUp | AgentHungUp


# ---------------------------------------------------------------- effects (outputs)


@dataclass(frozen=True, slots=True)
class PlayPrompts:
    """Play these prompts, in order, in ``language``; report :class:`PromptEnded` with token."""

    prompts: tuple[str, ...]
    language: str
    token: int


@dataclass(frozen=True, slots=True)
class StopPrompts:
    """Stop whatever is playing (the caller barged in with a key)."""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Start a timer; report :class:`TimerFired` with ``token`` after ``seconds``."""

    token: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Put the caller in ``queue`` with attached data (the routing engine takes over)."""

    queue: str
    priority: int
    language: str
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """The caller rated the service ``score`` on a 1..``scale_max`` scale."""

    score: int
    scale_max: int


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call. ``outcome`` is set when the IVR itself finished the contact."""

    outcome: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """A step worth logging as an ``ivr_step`` event (node entered, key, choice, failure)."""

    node: str
    action: str
    detail: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


Effect = PlayPrompts | StopPrompts | StartTimer | Enqueue | SurveyAnswered | Hangup | Step


# ---------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class IvrState:
    """Where one call is in the flow. Immutable: every transition returns a new one."""

    node: str
    phase: Phase
    language: str
    local_time: datetime
    emergency_prompt: str | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    digits: str = ""
    attempt: int = 0
    token: int = 0
    # what PromptEnded should lead to: "wait" (start the input timer), "next", "enqueue",
    # "hangup" or "survey_wait"/"survey_done"
    after_prompt: str = "next"
    survey_attempt: int = 0


def _with_variable(state: IvrState, name: str, value: str) -> IvrState:
    merged = dict(state.variables)
    merged[name] = value
    return replace(state, variables=MappingProxyType(merged))


@dataclass(frozen=True)
class Interpreter:
    """Runs one flow. Stateless itself: the per-call state travels in :class:`IvrState`."""

    flow: Flow

    def __post_init__(self) -> None:
        for name, node in self.flow.nodes.items():
            if isinstance(node, HoursNode) and node.hours is None:
                raise ValueError(
                    f"hours node {name!r} names calendar {node.calendar!r}: resolve the flow "
                    "with the center's calendars first (CenterConfig.ivr_flows)"
                )

    # -- public API

    def start(self, event: CallStarted) -> tuple[IvrState, list[Effect]]:
        """Begin the flow for a new call."""
        state = IvrState(
            node=self.flow.start,
            phase="idle",
            language=self.flow.languages[0],
            local_time=event.local_time,
            emergency_prompt=event.emergency_prompt,
        )
        effects: list[Effect] = []
        state = self._enter(state, self.flow.start, effects)
        return state, effects

    def transition(self, state: IvrState, event: IvrEvent) -> tuple[IvrState, list[Effect]]:
        """Apply one event and return the next state and the effects to carry out."""
        effects: list[Effect] = []
        if state.phase == "finished":
            return state, effects
        if isinstance(event, CallStarted):
            raise ValueError("CallStarted begins a call; use Interpreter.start")
        if isinstance(event, CallerHungUp):
            effects.append(Step(state.node, "caller_hung_up", {"phase": state.phase}))
            return replace(state, phase="finished"), effects
        if isinstance(event, AgentHungUp):
            return self._agent_hung_up(state, effects)
        if state.phase == "survey":
            return self._survey(state, event, effects), effects
        if state.phase == "queued":
            # In queue or talking: keys and timers belong to the conversation, not the flow.
            return state, effects
        if isinstance(event, PromptEnded):
            if event.token != state.token or state.phase != "prompt":
                return state, effects
            return self._prompt_ended(state, effects), effects
        if isinstance(event, TimerFired):
            if event.token != state.token or state.phase != "wait":
                return state, effects
            return self._timed_out(state, effects), effects
        return self._digit(state, event.digit, effects), effects

    # -- entering nodes

    def _node(self, name: str) -> Node:
        return self.flow.nodes[name]

    def _play(
        self, state: IvrState, prompts: list[str], after: str, effects: list[Effect]
    ) -> IvrState:
        token = state.token + 1
        effects.append(PlayPrompts(tuple(prompts), state.language, token))
        return replace(state, phase="prompt", token=token, after_prompt=after)

    def _enter(self, state: IvrState, name: str, effects: list[Effect]) -> IvrState:
        for _ in range(MAX_IMMEDIATE_HOPS):
            node = self._node(name)
            state = replace(state, node=name, digits="", attempt=0)
            effects.append(Step(name, "enter", {"type": node.type}))
            if isinstance(node, HoursNode):
                assert node.hours is not None  # resolved: checked when the interpreter was made
                is_open = node.hours.is_open(state.local_time)
                effects.append(Step(name, "open" if is_open else "closed"))
                name = node.open if is_open else node.closed
                continue
            if isinstance(node, EmergencyNode):
                if state.emergency_prompt:
                    effects.append(Step(name, "announced", {"prompt": state.emergency_prompt}))
                    return self._play(state, [state.emergency_prompt], "next", effects)
                name = node.next
                continue
            if isinstance(node, PlayNode):
                return self._play(state, node.prompts, "next", effects)
            if isinstance(node, MenuNode | LanguageNode | CollectNode):
                return self._play(state, node.prompts, "wait", effects)
            if isinstance(node, QueueNode):
                if node.prompts:
                    return self._play(state, node.prompts, "enqueue", effects)
                return self._enqueue(state, node, effects)
            if node.prompts:
                return self._play(state, node.prompts, "hangup", effects)
            return self._hangup(state, node, effects)
        effects.append(Step(name, "loop_detected"))
        effects.append(Hangup("failed"))
        return replace(state, phase="finished")

    def _enqueue(self, state: IvrState, node: QueueNode, effects: list[Effect]) -> IvrState:
        if node.attach:
            data = {k: state.variables[k] for k in node.attach if k in state.variables}
        else:
            data = dict(state.variables)
        data["language"] = state.language
        effects.append(Step(state.node, "enqueue", {**data, "queue": node.queue}))
        effects.append(Enqueue(node.queue, node.priority, state.language, MappingProxyType(data)))
        return replace(state, phase="queued")

    def _hangup(self, state: IvrState, node: HangupNode, effects: list[Effect]) -> IvrState:
        effects.append(Hangup(node.outcome))
        return replace(state, phase="finished")

    # -- prompt end and timers

    def _next_of(self, state: IvrState) -> str:
        node = self._node(state.node)
        if isinstance(node, EmergencyNode):
            return node.after_announcement or node.next
        if isinstance(node, PlayNode | LanguageNode | CollectNode):
            return node.next
        raise ValueError(f"node {state.node!r} has no single next node")

    def _prompt_ended(self, state: IvrState, effects: list[Effect]) -> IvrState:
        node = self._node(state.node)
        if state.after_prompt == "next":
            return self._enter(state, self._next_of(state), effects)
        if state.after_prompt == "enqueue" and isinstance(node, QueueNode):
            return self._enqueue(state, node, effects)
        if state.after_prompt == "hangup" and isinstance(node, HangupNode):
            return self._hangup(state, node, effects)
        # after_prompt == "wait": the caller may now answer
        return self._start_input_timer(state, effects)

    def _start_input_timer(self, state: IvrState, effects: list[Effect]) -> IvrState:
        node = self._node(state.node)
        if isinstance(node, CollectNode):
            seconds = node.inter_digit_timeout_s if state.digits else node.first_digit_timeout_s
        elif isinstance(node, MenuNode | LanguageNode):
            seconds = node.timeout_s
        else:
            raise ValueError(f"node {state.node!r} does not take input")
        token = state.token + 1
        effects.append(StartTimer(token, seconds))
        return replace(state, phase="wait", token=token)

    def _timed_out(self, state: IvrState, effects: list[Effect]) -> IvrState:
        node = self._node(state.node)
        if isinstance(node, CollectNode) and state.digits:
            return self._finish_collect(state, node, effects)
        effects.append(Step(state.node, "no_input", {"attempt": str(state.attempt + 1)}))
        return self._retry(state, "no_input", effects)

    def _retry(self, state: IvrState, reason: str, effects: list[Effect]) -> IvrState:
        node = self._node(state.node)
        assert isinstance(node, MenuNode | LanguageNode | CollectNode)
        attempt = state.attempt + 1
        if attempt > node.retries:
            if isinstance(node, LanguageNode):
                effects.append(Step(state.node, "language", {"language": node.default}))
                state = replace(state, language=node.default)
                return self._enter(state, node.next, effects)
            effects.append(Step(state.node, "failed", {"reason": reason}))
            return self._enter(state, node.on_failure, effects)
        extra: str | None = None
        if isinstance(node, MenuNode | CollectNode):
            extra = node.invalid_prompt if reason == "invalid" else node.no_input_prompt
        prompts = ([extra] if extra else []) + node.prompts
        state = replace(state, attempt=attempt, digits="")
        return self._play(state, prompts, "wait", effects)

    # -- keys

    def _digit(self, state: IvrState, digit: str, effects: list[Effect]) -> IvrState:
        node = self._node(state.node)
        if not isinstance(node, MenuNode | LanguageNode | CollectNode):
            return state  # keys pressed during announcements are not type-ahead
        if state.phase == "prompt":
            effects.append(StopPrompts())  # barge-in
        effects.append(Step(state.node, "digit", {"digit": digit}))
        if isinstance(node, LanguageNode):
            language = node.options.get(digit)
            if language is None:
                return self._retry(state, "invalid", effects)
            effects.append(Step(state.node, "language", {"language": language}))
            return self._enter(replace(state, language=language), node.next, effects)
        if isinstance(node, MenuNode):
            target = node.options.get(digit)
            if target is None:
                return self._retry(state, "invalid", effects)
            if node.set_variable:
                state = _with_variable(state, node.set_variable, digit)
            return self._enter(state, target, effects)
        if node.terminator is not None and digit == node.terminator:
            return self._finish_collect(state, node, effects)
        state = replace(state, digits=state.digits + digit)
        if len(state.digits) >= node.max_digits:
            return self._finish_collect(state, node, effects)
        return self._start_input_timer(state, effects)

    def _finish_collect(
        self, state: IvrState, node: CollectNode, effects: list[Effect]
    ) -> IvrState:
        value = state.digits
        valid = node.min_digits <= len(value) <= node.max_digits and (
            node.pattern is None or re.fullmatch(node.pattern, value) is not None
        )
        if not valid:
            effects.append(Step(state.node, "invalid_entry", {"length": str(len(value))}))
            return self._retry(state, "invalid", effects)
        effects.append(Step(state.node, "collected", {node.variable: value}))
        state = _with_variable(state, node.variable, value)
        return self._enter(state, node.next, effects)

    # -- post-call survey

    def _agent_hung_up(
        self, state: IvrState, effects: list[Effect]
    ) -> tuple[IvrState, list[Effect]]:
        survey = self.flow.survey
        if state.phase != "queued":
            return state, effects
        if survey is None:
            effects.append(Hangup(None))
            return replace(state, phase="finished"), effects
        effects.append(Step("survey", "enter"))
        token = state.token + 1
        effects.append(PlayPrompts((survey.prompt,), state.language, token))
        return replace(
            state,
            node="survey",
            phase="survey",
            token=token,
            after_prompt="survey_wait",
            survey_attempt=0,
        ), effects

    def _survey(self, state: IvrState, event: IvrEvent, effects: list[Effect]) -> IvrState:
        survey = self.flow.survey
        assert survey is not None
        if isinstance(event, PromptEnded):
            if event.token != state.token:
                return state
            if state.after_prompt == "survey_done":
                effects.append(Hangup(None))
                return replace(state, phase="finished")
            token = state.token + 1
            effects.append(StartTimer(token, survey.timeout_s))
            return replace(state, token=token, after_prompt="survey_timer")
        if isinstance(event, TimerFired):
            if event.token != state.token or state.after_prompt != "survey_timer":
                return state
            return self._survey_retry(state, "no_input", effects)
        if not isinstance(event, DigitPressed) or state.after_prompt == "survey_done":
            return state
        if state.after_prompt == "survey_wait":
            effects.append(StopPrompts())
        if event.digit.isdigit() and 1 <= int(event.digit) <= survey.scale_max:
            score = int(event.digit)
            effects.append(Step("survey", "answered", {"score": str(score)}))
            effects.append(SurveyAnswered(score, survey.scale_max))
            token = state.token + 1
            effects.append(PlayPrompts((survey.thanks_prompt,), state.language, token))
            return replace(state, token=token, after_prompt="survey_done")
        return self._survey_retry(state, "invalid", effects)

    def _survey_retry(self, state: IvrState, reason: str, effects: list[Effect]) -> IvrState:
        survey = self.flow.survey
        assert survey is not None
        attempt = state.survey_attempt + 1
        effects.append(Step("survey", reason, {"attempt": str(attempt)}))
        if attempt > survey.retries:
            effects.append(Hangup(None))
            return replace(state, phase="finished")
        prompts = (
            [survey.invalid_prompt] if reason == "invalid" and survey.invalid_prompt else []
        ) + [survey.prompt]
        token = state.token + 1
        effects.append(PlayPrompts(tuple(prompts), state.language, token))
        return replace(state, token=token, after_prompt="survey_wait", survey_attempt=attempt)
