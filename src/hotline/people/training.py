"""Training and certification: courses, exams with scores, and the routing skill a pass grants.

A course teaches one routing skill of the center (``repair``, ``vip``…) to a proficiency
(1 novice … 5 expert, the routing engine's scale) and ends in an exam scored 0–100 with a
pass mark. An agent who passes is **certified**: the skill is granted at the course's
proficiency — raised, never lowered (an expert who takes the basic course stays an expert).
The grant is a change of the center file made through the same checked, audited path as an
administrator's skill edit, so the live routing engine switches to it at the agent's next
safe point. This module decides; it writes nothing.

Pure: no I/O.

>>> granted({"installation": 3}, skill="repair", proficiency=2)
{'installation': 3, 'repair': 2}
>>> granted({"repair": 4}, skill="repair", proficiency=2) is None
True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

#: The routing engine's proficiency scale.
LOWEST, HIGHEST = 1, 5
#: The longest course name.
MAX_NAME = 120


def passed(score: float, pass_mark: float) -> bool:
    """Whether an exam ``score`` reaches the course's ``pass_mark`` (both 0–100).

    >>> passed(80, 80), passed(79.5, 80)
    (True, False)
    """
    return score >= pass_mark


def granted(skills: Mapping[str, int], *, skill: str, proficiency: int) -> dict[str, int] | None:
    """The agent's skills after passing a course on ``skill`` at ``proficiency``, or ``None``
    when they already hold it at that level or higher (nothing to change)."""
    if skills.get(skill, 0) >= proficiency:
        return None
    return {**skills, skill: proficiency}


def course_problems(
    *, name: str, skill: str, proficiency: int, pass_mark: float, skills: Collection[str]
) -> list[tuple[str, str]]:
    """What is wrong with a course as asked, as (field, rule broken) pairs.

    >>> course_problems(name="VIP", skill="vips", proficiency=6, pass_mark=120,
    ...                 skills=["vip", "repair"])  # doctest: +NORMALIZE_WHITESPACE
    [('skill', "no skill 'vips' in the center (vip, repair)"),
     ('proficiency', 'from 1 to 5, not 6'), ('pass_mark', 'from 0 to 100, not 120')]
    """
    found: list[tuple[str, str]] = []
    if not name.strip():
        found.append(("name", "give the course a name"))
    elif len(name) > MAX_NAME:
        found.append(("name", f"at most {MAX_NAME} characters, not {len(name)}"))
    if skill not in skills:
        found.append(("skill", f"no skill {skill!r} in the center ({', '.join(skills)})"))
    if not LOWEST <= proficiency <= HIGHEST:
        found.append(("proficiency", f"from {LOWEST} to {HIGHEST}, not {proficiency}"))
    if not 0 <= pass_mark <= 100:
        found.append(("pass_mark", f"from 0 to 100, not {pass_mark:g}"))
    return found
