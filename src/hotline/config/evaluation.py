"""Quality evaluation forms (质检评分表) and the QA sampling policy, as the center file writes them.

A QA specialist scores a contact on a **form**: sections (开场白, 身份核实, 业务准确性…), each
with a weight, holding questions with their own weights and an answer scale of ``points``
(``points: 1`` is pass/fail; ``points: 4`` is a 0–4 rating). A question may be marked
**fatal** (critical): failing it zeroes its ``section`` or the whole ``evaluation`` — a wrong
repair promise, a disclosed identity card number — while non-fatal questions only deduct.
A question that may not apply to a contact (``allow_na``) is answered N/A and leaves both the
score and its denominator. Forms are **versioned**: a center keeps old versions next to the
new one so that evaluations made on version 1 keep their meaning; each evaluation stores the
form it was scored on.

The scoring itself is :mod:`hotline.quality.scoring`; the rules across records (unique ids,
fatal questions being pass/fail) are checked in :mod:`hotline.config.validate`.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Fatality = Literal["none", "section", "evaluation"]
ChannelName = Literal["voice", "chat", "email", "sms", "app", "video", "callback", "outbound"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormQuestion(_Strict):
    """One question: what is checked, its weight in its section, its scale and fatality."""

    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, max_length=500)
    weight: float = Field(default=1.0, gt=0, le=1000)
    points: int = Field(default=1, ge=1, le=10, description="answers run 0..points; 1 = pass/fail")
    allow_na: bool = False
    fatal: Fatality = "none"
    guidance: str = ""


class FormSection(_Strict):
    """A section of a form (开场白, 结束语…): a weight and its questions."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1000)
    questions: list[FormQuestion] = Field(min_length=1)


class EvaluationForm(_Strict):
    """One version of an evaluation form; ``channels`` empty means every channel."""

    id: str = Field(pattern=ID_PATTERN)
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    channels: list[ChannelName] = Field(default_factory=list)
    sections: list[FormSection] = Field(min_length=1)

    def question(self, question_id: str) -> FormQuestion:
        """The question named ``question_id`` (``KeyError`` when the form has none)."""
        for section in self.sections:
            for question in section.questions:
                if question.id == question_id:
                    return question
        raise KeyError(question_id)


class TargetedSampling(_Strict):
    """How many contacts per agent and month are picked on purpose rather than at random."""

    long_call_s: float = Field(default=600, gt=0, description="a call at least this long is long")
    long_calls: int = Field(default=1, ge=0, le=50)
    transfers: int = Field(default=1, ge=0, le=50)
    repeat_callers: int = Field(default=1, ge=0, le=50)
    speech_flags: int = Field(
        default=1, ge=0, le=50, description="contacts the automated speech checks flagged"
    )


class SamplingPolicy(_Strict):
    """The monthly sampling plan: evaluations per agent, the targeted part, the precision aim."""

    per_agent_month: int = Field(default=6, ge=1, le=200)
    targeted: TargetedSampling = Field(default_factory=TargetedSampling)
    margin_points: float = Field(
        default=5.0, gt=0, le=50, description="the ± points of a score one wants to know"
    )
    assumed_sd_points: float = Field(
        default=12.0, gt=0, le=100, description="spread of scores used before any are known"
    )


def phrase_key(text: str) -> str:
    """``text`` as speech checks and transcript search compare it: NFKC (full-width forms to
    half-width), lower case, without spaces or punctuation.

    >>> phrase_key("您好， 工号 ３５２１！Hello")
    '您好工号3521hello'
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


class SpeechChecks(_Strict):
    """Automated checks on every transcribed call (``quality.speech``).

    The script items are phrases, any one of which satisfies the item: the agent's
    **greeting** within ``greeting_within_s`` of the agent's first words, the **closing** in
    the agent's last ``closing_within_s``, the **recording notice** anywhere on either leg
    (a prompt or the agent), the agent's **job number** (工号, from ``agents``) said by the
    agent when ``job_number`` is on, and no **forbidden** phrase on the agent's leg. Matching
    ignores spaces, punctuation, case and full-width forms; transcripts are kept in
    simplified characters, and phrases are converted to simplified before matching. From the
    two legs' timing: a **silence** is a stretch of at least ``silence_s`` with neither party
    speaking, an **over-talk** one of at least ``over_talk_s`` with both speaking at once.
    """

    greeting: list[str] = Field(default_factory=list, max_length=50)
    greeting_within_s: float = Field(default=15.0, gt=0, le=600)
    closing: list[str] = Field(default_factory=list, max_length=50)
    closing_within_s: float = Field(default=30.0, gt=0, le=600)
    recording_notice: list[str] = Field(default_factory=list, max_length=50)
    job_number: bool = False
    forbidden: list[str] = Field(default_factory=list, max_length=500)
    silence_s: float = Field(default=10.0, gt=0, le=3600)
    over_talk_s: float = Field(default=2.0, gt=0, le=3600)


class QualityConfig(_Strict):
    """The ``quality:`` section: evaluation forms (all versions), the sampling policy and the
    automated speech checks."""

    forms: list[EvaluationForm] = Field(default_factory=list)
    sampling: SamplingPolicy = Field(default_factory=SamplingPolicy)
    speech: SpeechChecks = Field(default_factory=SpeechChecks)

    def current_forms(self) -> list[EvaluationForm]:
        """The newest version of every form, in the order forms first appear.

        >>> q = QualityConfig(forms=[
        ...     EvaluationForm(id="f", version=1, name="v1", sections=[FormSection(
        ...         id="s", name="s", weight=1, questions=[FormQuestion(id="q", text="q")])]),
        ...     EvaluationForm(id="f", version=2, name="v2", sections=[FormSection(
        ...         id="s", name="s", weight=1, questions=[FormQuestion(id="q", text="q")])])])
        >>> [f.name for f in q.current_forms()]
        ['v2']
        """
        newest: dict[str, EvaluationForm] = {}
        for form in self.forms:
            if form.id not in newest or form.version > newest[form.id].version:
                newest[form.id] = form
        return list(newest.values())

    def form(self, form_id: str, version: int | None = None) -> EvaluationForm:
        """Form ``form_id`` at ``version`` (the newest when ``None``); ``KeyError`` if none."""
        matching = [f for f in self.forms if f.id == form_id]
        if version is not None:
            matching = [f for f in matching if f.version == version]
        if not matching:
            raise KeyError(form_id if version is None else f"{form_id} v{version}")
        return max(matching, key=lambda f: f.version)
