"""Scoring one evaluation on a form: weights, answer scales, N/A, fatal and non-fatal errors.

The rules, as most contact centers write them into their QA manual:

* A question earns ``weight × answer ÷ points``; a section earns ``section weight ×`` (points
  earned ÷ points possible over its questions that apply). The evaluation's score is the
  sum over sections ÷ the weights of the sections that apply, on a 0–100 scale.
* **N/A** (``None``) takes a question out of both numerator and denominator; a section whose
  questions are all N/A drops out and the others are re-weighted. Only ``allow_na``
  questions may be N/A.
* A **fatal** question answered below full marks (it is pass/fail) is a *fatal error*: a
  ``section``-fatal one zeroes its section, an ``evaluation``-fatal one zeroes the whole
  evaluation.
* Every non-fatal question that applies is a *non-fatal opportunity*; one answered below
  full marks is a *non-fatal error* (METRICS.md ``nonfatal_accuracy`` = 1 − errors ÷
  opportunities; ``fatal_accuracy`` = share of evaluations without a fatal error).

Pure: no I/O.

>>> from hotline.config.evaluation import EvaluationForm, FormSection, FormQuestion
>>> form = EvaluationForm(id="f", version=1, name="f", sections=[
...     FormSection(id="open", name="开场白", weight=20, questions=[
...         FormQuestion(id="greet", text="问候", weight=1)]),
...     FormSection(id="acc", name="业务准确性", weight=80, questions=[
...         FormQuestion(id="info", text="信息准确", weight=3, points=4),
...         FormQuestion(id="promise", text="错误承诺", fatal="evaluation")])])
>>> s = score_answers(form, {"greet": 1, "info": 2, "promise": 1})
>>> s.score, s.fatal_error, s.nonfatal_errors, s.nonfatal_opportunities
(70.0, False, 1, 2)
>>> score_answers(form, {"greet": 1, "info": 4, "promise": 0}).score
0.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.config.evaluation import EvaluationForm


class AnswerProblem(ValueError):
    """Answers that do not fit the form: ``field`` names the question, the message the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class SectionScore:
    """One section's result: its share of 100, or ``None`` when every question was N/A."""

    id: str
    name: str
    weight: float
    earned_share: float | None
    zeroed_by: str | None


@dataclass(frozen=True)
class Scored:
    """The outcome of scoring: the 0–100 score and the error counts the accuracies use."""

    score: float
    fatal_error: bool
    fatal_questions: tuple[str, ...]
    nonfatal_errors: int
    nonfatal_opportunities: int
    sections: tuple[SectionScore, ...]


def check_answers(form: EvaluationForm, answers: Mapping[str, int | None]) -> None:
    """Raise :class:`AnswerProblem` unless ``answers`` answers every question of ``form``
    exactly once, within its scale, N/A only where allowed."""
    known = {q.id for s in form.sections for q in s.questions}
    for question_id in answers:
        if question_id not in known:
            raise AnswerProblem(
                f"answers.{question_id}",
                f"form {form.id!r} v{form.version} has no question {question_id!r}",
            )
    for section in form.sections:
        for question in section.questions:
            field = f"answers.{question.id}"
            if question.id not in answers:
                raise AnswerProblem(field, "not answered (every question needs an answer)")
            value = answers[question.id]
            if value is None:
                if not question.allow_na:
                    raise AnswerProblem(field, "N/A is not allowed for this question")
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise AnswerProblem(field, f"answer must be a whole number 0-{question.points}")
            if not 0 <= value <= question.points:
                raise AnswerProblem(
                    field, f"answer {value} is outside the scale 0-{question.points}"
                )


def score_answers(form: EvaluationForm, answers: Mapping[str, int | None]) -> Scored:
    """Score ``answers`` (question id → 0..points, or ``None`` for N/A) on ``form``."""
    check_answers(form, answers)
    sections: list[SectionScore] = []
    fatal_questions: list[str] = []
    evaluation_zeroed = False
    errors = opportunities = 0
    for section in form.sections:
        earned = possible = 0.0
        zeroed_by: str | None = None
        for question in section.questions:
            value = answers[question.id]
            if value is None:
                continue
            earned += question.weight * value / question.points
            possible += question.weight
            failed = value < question.points
            if question.fatal == "none":
                opportunities += 1
                errors += int(failed)
            elif failed:
                fatal_questions.append(question.id)
                if question.fatal == "evaluation":
                    evaluation_zeroed = True
                zeroed_by = zeroed_by or question.id
        share = None if possible == 0 else (0.0 if zeroed_by else earned / possible)
        sections.append(SectionScore(section.id, section.name, section.weight, share, zeroed_by))
    applying = [s for s in sections if s.earned_share is not None]
    total_weight = sum(s.weight for s in applying)
    raw = (
        sum(s.weight * (s.earned_share or 0.0) for s in applying) / total_weight * 100
        if total_weight
        else 100.0
    )
    score = 0.0 if evaluation_zeroed else round(raw, 2)
    return Scored(
        score=score,
        fatal_error=bool(fatal_questions),
        fatal_questions=tuple(fatal_questions),
        nonfatal_errors=errors,
        nonfatal_opportunities=opportunities,
        sections=tuple(sections),
    )
