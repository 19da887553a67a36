"""Scoring an evaluation: weights, scales, N/A re-weighting, fatal and non-fatal errors."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.evaluation import EvaluationForm
from hotline.config.validate import load_center
from hotline.quality.scoring import AnswerProblem, score_answers


@functools.cache
def _form() -> EvaluationForm:
    center = load_center(SAMPLE_CENTER)
    assert center.quality is not None
    return center.quality.form("voice-service", 2)


def _perfect(form: EvaluationForm) -> dict[str, int | None]:
    return {q.id: q.points for s in form.sections for q in s.questions}


def test_a_perfect_contact_scores_100_with_every_opportunity_counted() -> None:
    form = _form()
    scored = score_answers(form, _perfect(form))
    assert scored.score == 100.0
    assert not scored.fatal_error
    # 11 questions, 3 of them fatal: 8 non-fatal opportunities, no error
    assert (scored.nonfatal_errors, scored.nonfatal_opportunities) == (0, 8)


def test_weights_and_scales_deduct_by_hand_computed_amounts() -> None:
    form = _form()
    answers = _perfect(form) | {"correct_info": 2, "courtesy": 3}
    scored = score_answers(form, answers)
    # accuracy: (3*2/4 + 2 + 1) / 6 = 0.75 of 45; attitude: (2*3/4 + 1) / 3 = 0.8333 of 20
    expected = (10 + 15 + 45 * 0.75 + 20 * (2.5 / 3) + 10) / 100 * 100
    assert scored.score == round(expected, 2)
    assert (scored.nonfatal_errors, scored.nonfatal_opportunities) == (2, 8)


def test_not_applicable_leaves_numerator_and_denominator() -> None:
    form = _form()
    with_na = score_answers(form, _perfect(form) | {"ticket_complete": None, "correct_info": 2})
    # accuracy without the ticket question: (1.5 + 1) / 4 = 0.625 of 45
    assert with_na.score == round(10 + 15 + 45 * 0.625 + 20 + 10, 2)
    assert with_na.nonfatal_opportunities == 7


def test_a_section_all_na_drops_out_and_the_rest_is_reweighted() -> None:
    form = EvaluationForm.model_validate(
        {
            "id": "f",
            "version": 1,
            "name": "f",
            "sections": [
                {"id": "a", "name": "a", "weight": 50, "questions": [{"id": "q1", "text": "q"}]},
                {
                    "id": "b",
                    "name": "b",
                    "weight": 50,
                    "questions": [{"id": "q2", "text": "q", "allow_na": True}],
                },
            ],
        }
    )
    scored = score_answers(form, {"q1": 1, "q2": None})
    assert scored.score == 100.0
    assert scored.sections[1].earned_share is None


def test_a_section_fatal_error_zeroes_only_its_section() -> None:
    form = _form()
    scored = score_answers(form, _perfect(form) | {"verify_identity": 0})
    assert scored.score == 85.0  # the 15-point identity section is lost, nothing else
    assert scored.fatal_error and scored.fatal_questions == ("verify_identity",)
    assert scored.sections[1].zeroed_by == "verify_identity"
    assert scored.nonfatal_errors == 0  # a fatal error is not a non-fatal one


def test_an_evaluation_fatal_error_zeroes_everything() -> None:
    form = _form()
    scored = score_answers(form, _perfect(form) | {"no_false_promise": 0})
    assert scored.score == 0.0
    assert scored.fatal_error


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"greeting": 3}, "answers.greeting", "answer 3 is outside the scale 0-1"),
        ({"greeting": None}, "answers.greeting", "N/A is not allowed for this question"),
        ({"bogus": 1}, "answers.bogus", "form 'voice-service' v2 has no question 'bogus'"),
        ({"courtesy": True}, "answers.courtesy", "answer must be a whole number 0-4"),
    ],
)
def test_answers_that_do_not_fit_the_form_are_refused_naming_the_question(
    change: dict[str, int | None], field: str, rule: str
) -> None:
    form = _form()
    with pytest.raises(AnswerProblem) as refused:
        score_answers(form, _perfect(form) | change)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_missing_answer_is_refused() -> None:
    form = _form()
    answers = _perfect(form)
    del answers["closing_phrase"]
    with pytest.raises(AnswerProblem, match=r"answers\.closing_phrase: not answered"):
        score_answers(form, answers)


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_scores_stay_between_0_and_100_and_never_rise_when_an_answer_falls(
    data: st.DataObject,
) -> None:
    form = _form()
    answers: dict[str, int | None] = {}
    for section in form.sections:
        for q in section.questions:
            choices: list[int | None] = list(range(q.points + 1))
            if q.allow_na:
                choices.append(None)
            answers[q.id] = data.draw(st.sampled_from(choices), label=q.id)
    scored = score_answers(form, answers)
    assert 0 <= scored.score <= 100
    assert scored.nonfatal_errors <= scored.nonfatal_opportunities
    assert scored.fatal_error == bool(scored.fatal_questions)
    positive = sorted(k for k, v in answers.items() if v)
    if positive:
        lowered = data.draw(st.sampled_from(positive), label="lowered")
        value = answers[lowered]
        assert value is not None
        worse = score_answers(form, answers | {lowered: value - 1})
        assert worse.score <= scored.score
        assert worse.nonfatal_errors + len(worse.fatal_questions) >= scored.nonfatal_errors + len(
            scored.fatal_questions
        )
