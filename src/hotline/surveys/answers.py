"""Checking a customer's answers against the survey's questions, naming the question broken.

The survey page posts every answer as text (a form); this turns them into typed answers —
CSAT 1–5 and NPS 0–10 as integers, resolved as ``True``/``False``, text trimmed and at most
:data:`TEXT_LIMIT` characters — or refuses them all with one located problem per question.

>>> from hotline.config.surveys import SurveyDefinition, SurveyQuestion as Q
>>> survey = SurveyDefinition(id="s", name="s", questions=[
...     Q(id="overall", kind="csat", text={"zh-CN": "总体", "en": "overall"}),
...     Q(id="solved", kind="resolved", text={"zh-CN": "解决", "en": "solved"})])
>>> check_answers(survey, {"overall": "4", "solved": "yes"})
{'overall': 4, 'solved': True}
>>> try:
...     check_answers(survey, {"overall": "9"})
... except ValidationFailed as refused:
...     print(refused)
overall: answer 9 is outside the scale 1-5
solved: an answer is required
"""

from __future__ import annotations

from collections.abc import Mapping

from hotline.config.surveys import SCALES, SurveyDefinition
from hotline.core.errors import Problem, ValidationFailed

TEXT_LIMIT = 2000

Answer = int | bool | str


def check_answers(definition: SurveyDefinition, raw: Mapping[str, str]) -> dict[str, Answer]:
    """The answers to ``definition``'s questions, typed; :class:`ValidationFailed` otherwise.

    Keys that are not questions of the survey are refused too, so a form cannot slip in
    answers the survey never asked.
    """
    problems: list[Problem] = []
    known = {q.id for q in definition.questions}
    for key in sorted(set(raw) - known):
        problems.append(Problem(f"survey {definition.id!r} has no question {key!r}", field=key))
    answers: dict[str, Answer] = {}
    for question in definition.questions:
        text = (raw.get(question.id) or "").strip()
        if not text:
            if question.required and question.kind != "text":
                problems.append(Problem("an answer is required", field=question.id))
            continue
        if question.kind in SCALES:
            low, high = SCALES[question.kind]
            if not text.isdigit() or not low <= int(text) <= high:
                problems.append(
                    Problem(f"answer {text} is outside the scale {low}-{high}", field=question.id)
                )
                continue
            answers[question.id] = int(text)
        elif question.kind == "resolved":
            if text not in ("yes", "no"):
                problems.append(Problem(f"answer {text!r} is not yes or no", field=question.id))
                continue
            answers[question.id] = text == "yes"
        else:
            if len(text) > TEXT_LIMIT:
                problems.append(
                    Problem(f"at most {TEXT_LIMIT} characters, not {len(text)}", field=question.id)
                )
                continue
            answers[question.id] = text
    if problems:
        raise ValidationFailed(problems)
    return answers
