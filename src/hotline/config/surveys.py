"""Post-contact surveys (满意度回访问卷), as the center file writes them.

A **survey** asks the customer a few questions after a contact: how satisfied they were
(``csat``, 1–5), how likely they are to recommend the brand (``nps``, 0–10), whether the
problem was solved (``resolved``, yes/no) and anything they want to add (``text``). The
``overall`` question is the CSAT question the other answers are measured against in the
driver analysis. The IVR's post-call survey asks one CSAT question by DTMF and web chat asks
one at the end of the chat; a survey defined here is what the public survey page (a signed,
single-use link sent by e-mail, later by SMS) shows. Each question is shown in the customer's
language: ``text`` holds it in zh-CN and in en.

``link_ttl_hours`` is how long a survey link stays valid after it was sent. The rules across
records (unique ids, ``overall`` naming a CSAT question) are checked in
:mod:`hotline.config.validate`.

>>> SurveyQuestion(id="overall", kind="csat", text={"zh-CN": "满意吗", "en": "ok?"}).scale_max
5
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

QuestionKind = Literal["csat", "nps", "resolved", "text"]

#: The answer scale of each scored kind: CSAT 1–5, NPS 0–10 (METRICS.md).
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurveyQuestion(_Strict):
    """One question: its id, kind and wording in each page language."""

    id: str = Field(pattern=ID_PATTERN)
    kind: QuestionKind
    text: dict[Literal["zh-CN", "en"], str] = Field(min_length=2)
    required: bool = True

    @property
    def scale_max(self) -> int | None:
        """The top of the answer scale (5 for CSAT, 10 for NPS), ``None`` for yes/no and text."""
        scale = SCALES.get(self.kind)
        return scale[1] if scale else None


class SurveyDefinition(_Strict):
    """A survey: the questions a customer answers, in order, and which one is the overall CSAT."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    questions: list[SurveyQuestion] = Field(min_length=1, max_length=20)
    overall: str | None = Field(
        None, description="the CSAT question the driver analysis explains (the first by default)"
    )

    def overall_question(self) -> str | None:
        """The id of the overall CSAT question: ``overall`` or the first CSAT question."""
        if self.overall is not None:
            return self.overall
        return next((q.id for q in self.questions if q.kind == "csat"), None)


TicketTrigger = Literal["inquiry", "installation", "repair", "complaint", "suggestion"]
ContactTrigger = Literal["voice", "chat"]


class SurveySendRule(_Strict):
    """When the center sends a survey link on its own (``surveys.send`` in the center file).

    After a ticket of one of ``after_tickets``' types is resolved, and/or after a contact on
    one of ``after_contacts``' channels ends without the customer answering the survey in that
    channel (the IVR's DTMF question, chat's rating), the sweep waits ``wait_minutes`` and then
    sends the link: by e-mail when the customer has an address, else by SMS when a gateway is
    configured and the customer has a mobile number. A customer gets at most one invitation
    every ``once_per_days`` days; a number on a do-not-call list never gets one. ``base_url``
    is where customers open the survey page (the links are ``<base_url>/s/<token>``). A link
    whose SMS was refused for a while (the gateway down, quiet hours) is tried again up to
    ``sms_attempts`` times in all, ``retry_minutes`` after the first try and three times as
    long after each further one (never in quiet hours), then marked failed.

    >>> SurveySendRule(after_tickets=["repair"], base_url="https://cc.example.com").wait_minutes
    30
    """

    after_tickets: list[TicketTrigger] = Field(default_factory=list)
    after_contacts: list[ContactTrigger] = Field(default_factory=list)
    wait_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    once_per_days: int = Field(default=30, ge=0, le=365)
    survey: str | None = Field(None, description="the survey sent (the default one when unset)")
    base_url: str = Field(pattern=r"^https?://[^/\s]+(/\S*)?$", max_length=200)
    sms_attempts: int = Field(default=5, ge=1, le=20)
    retry_minutes: int = Field(default=5, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _something_triggers(self) -> SurveySendRule:
        if not self.after_tickets and not self.after_contacts:
            raise ValueError("name at least one of after_tickets or after_contacts")
        return self


class SurveysConfig(_Strict):
    """The center's surveys; the link sent after a contact uses ``default`` (the first)."""

    definitions: list[SurveyDefinition] = Field(min_length=1)
    default: str | None = None
    link_ttl_hours: int = Field(default=168, ge=1, le=24 * 90)
    send: SurveySendRule | None = None

    def definition(self, survey_id: str | None = None) -> SurveyDefinition:
        """The survey named ``survey_id`` (the default one when ``None``); ``KeyError`` if none."""
        wanted = survey_id or self.default or self.definitions[0].id
        for definition in self.definitions:
            if definition.id == wanted:
                return definition
        raise KeyError(wanted)
