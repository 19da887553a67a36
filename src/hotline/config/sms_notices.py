"""SMS notices by rule (短信通知), as the center file writes them: ``sms_notices``.

Two occasions get a text without anyone sending it by hand:

- ``appointment_reminder``: a field-service visit (an installation or a repair dispatched
  with an appointment window) is coming: the customer is told ``hours_before`` the window
  opens, so someone is home when the engineer rings.
- ``follow_up``: a follow-up (回访) call is due: the customer is told ``hours_before`` the
  call is due, so they expect it and pick up.

``text`` holds the message in zh-CN (required) and optionally en (customers whose language
is English get it). Its placeholders are filled from the occasion: ``{number}`` (the ticket
number) in both, ``{date}``, ``{start}`` and ``{end}`` (the appointment window, in the
center's time zone) in a reminder, ``{due}`` (when the call is due) in a follow-up notice; a
placeholder the kind does not have is refused when the file is checked. A notice refused for
a while (quiet hours, the gateway down) is tried again until the appointment or the call;
then it is recorded as refused. One rule per kind (checked in :mod:`hotline.config.validate`).

>>> rule = SmsNoticeRule(kind="follow_up", hours_before=2, text={"zh-CN": "工单{number}将回访"})
>>> rule.placeholders()
['due', 'number']
"""

from __future__ import annotations

from string import Formatter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

NoticeKind = Literal["appointment_reminder", "follow_up"]
NoticeLanguage = Literal["zh-CN", "en"]

#: The placeholders each kind's text may use.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "appointment_reminder": frozenset({"number", "date", "start", "end"}),
    "follow_up": frozenset({"number", "due"}),
}


class SmsNoticeRule(BaseModel):
    """When a notice of one kind goes out, and what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NoticeKind
    hours_before: float = Field(gt=0, le=7 * 24)
    text: dict[NoticeLanguage, str]

    @field_validator("text")
    @classmethod
    def _worded(
        cls, text: dict[NoticeLanguage, str], info: ValidationInfo
    ) -> dict[NoticeLanguage, str]:
        if "zh-CN" not in text:
            raise ValueError("give the text in zh-CN (en is optional)")
        allowed = PLACEHOLDERS.get(info.data.get("kind", ""), frozenset())
        for language, wording in text.items():
            if not wording.strip() or len(wording) > 500:
                raise ValueError(f"the {language} text must be 1 to 500 characters")
            try:
                names = {name for _, name, _, _ in Formatter().parse(wording) if name is not None}
            except ValueError as broken:
                raise ValueError(f"{language}: {broken} (write {{{{ for a brace)") from None
            unknown = sorted(names - allowed)
            if allowed and unknown:
                kind = info.data["kind"]
                raise ValueError(
                    f"{language}: unknown placeholder {{{unknown[0]}}} in a {kind} "
                    f"(known: {', '.join('{' + n + '}' for n in sorted(allowed))})"
                )
        return text

    def placeholders(self) -> list[str]:
        """The placeholders this rule's kind may use, sorted."""
        return sorted(PLACEHOLDERS[self.kind])

    def wording(self, language: str | None) -> str:
        """The text for a customer's language: en for English speakers when given."""
        if (language or "").lower().startswith("en") and "en" in self.text:
            return self.text["en"]
        return self.text["zh-CN"]
