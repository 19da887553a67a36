"""Certification rules: the pass mark is reached or not; a pass raises a skill, never lowers
it; a course is checked whole against the center's skills and the engine's scale."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.people.training import course_problems, granted, passed


def test_the_pass_mark_itself_passes() -> None:
    assert [passed(score, 80) for score in (0, 79.9, 80, 100)] == [False, False, True, True]


@given(
    held=st.dictionaries(st.sampled_from(["repair", "vip", "chat"]), st.integers(1, 5)),
    proficiency=st.integers(1, 5),
)
def test_a_pass_never_lowers_a_skill_and_leaves_the_others(
    held: dict[str, int], proficiency: int
) -> None:
    after = granted(held, skill="repair", proficiency=proficiency)
    if held.get("repair", 0) >= proficiency:
        assert after is None
    else:
        assert after == {**held, "repair": proficiency}


def test_a_course_is_checked_against_the_centers_skills() -> None:
    assert course_problems(
        name="", skill="repair", proficiency=0, pass_mark=-1, skills=["repair"]
    ) == [
        ("name", "give the course a name"),
        ("proficiency", "from 1 to 5, not 0"),
        ("pass_mark", "from 0 to 100, not -1"),
    ]
    assert (
        course_problems(name="VIP", skill="vip", proficiency=4, pass_mark=85, skills=["vip"]) == []
    )
