"""Survey figures: the intervals against a maintained library and a simulation, every
channel's answers read the same way, rates and drivers."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from hotline.config.surveys import SurveyDefinition, SurveyQuestion
from hotline.core.events import Channel, Event, EventKind
from hotline.surveys.answers import check_answers
from hotline.surveys.statistics import (
    drivers,
    figures,
    group_figures,
    net_promoter,
    proportion,
    responses_from_events,
)
from hotline.surveys.verbatims import root_causes

SURVEY = SurveyDefinition(
    id="after",
    name="after",
    questions=[
        SurveyQuestion(id="overall", kind="csat", text={"zh-CN": "总体", "en": "overall"}),
        SurveyQuestion(id="speed", kind="csat", text={"zh-CN": "速度", "en": "speed"}),
        SurveyQuestion(id="recommend", kind="nps", text={"zh-CN": "推荐", "en": "recommend"}),
        SurveyQuestion(id="solved", kind="resolved", text={"zh-CN": "解决", "en": "solved"}),
        SurveyQuestion(
            id="comment", kind="text", required=False, text={"zh-CN": "建议", "en": "comment"}
        ),
    ],
)


@pytest.mark.parametrize(("successes", "n"), [(0, 7), (3, 7), (45, 50), (50, 50), (1, 1000)])
def test_wilson_intervals_agree_with_statsmodels(successes: int, n: int) -> None:
    ours = proportion(successes, n)
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    assert ours.low == pytest.approx(low) and ours.high == pytest.approx(high)


def test_the_nps_interval_is_the_normal_interval_of_the_trinomial_score() -> None:
    """The stated method: the −1/0/+1 score's sample variance (ddof 0), and it covers the
    true NPS about 95 % of the time on a population of 40 % promoters, 25 % detractors."""
    rng = np.random.default_rng(15)
    scores = list(rng.choice([10, 8, 2], size=400, p=[0.4, 0.35, 0.25]))
    nps = net_promoter(scores)
    u = np.where(np.array(scores) >= 9, 1.0, np.where(np.array(scores) <= 6, -1.0, 0.0))
    half = 1.959964 * u.std() / np.sqrt(len(u)) * 100
    assert nps.score == pytest.approx(100 * u.mean())
    assert nps.low == pytest.approx(nps.score - half) and nps.high == pytest.approx(
        nps.score + half
    )
    covered = 0
    for _ in range(400):
        sample = rng.choice([10, 8, 2], size=200, p=[0.4, 0.35, 0.25])
        drawn = net_promoter([int(s) for s in sample])
        assert drawn.low is not None and drawn.high is not None
        covered += drawn.low <= 15.0 <= drawn.high
    assert 0.92 <= covered / 400 <= 0.98


def _events() -> list[Event]:
    """An IVR answer, a chat answer and a survey page response with its NPS event."""
    page = check_answers(
        SURVEY,
        {"overall": "2", "speed": "1", "recommend": "3", "solved": "no", "comment": " 太慢 "},
    )
    common = {"survey": "after", "response": 7, "product": "washer"}
    return [
        Event(1, 10.0, EventKind.ANSWERED, "v1", "a1", "repair", Channel.VOICE),
        Event(2, 20.0, EventKind.SURVEY_ANSWERED, "v1", "a1", "repair", Channel.VOICE,
              {"score": 5, "scale_max": 5, "survey": "csat"}),
        Event(3, 30.0, EventKind.SURVEY_ANSWERED, "L1", "a2", "chat", Channel.CHAT,
              {"score": 4, "scale_max": 5, "survey": "csat"}),
        Event(4, 40.0, EventKind.SURVEY_ANSWERED, "e1", "a2", "repair", Channel.EMAIL,
              {**common, "answers": page, "score": 2, "scale_max": 5}),
        Event(5, 40.0, EventKind.SURVEY_ANSWERED, "e1", "a2", "repair", Channel.EMAIL,
              {**common, "score": 3, "scale_max": 10, "question": "recommend"}),
    ]  # fmt: skip


def test_every_channel_s_answers_become_responses_once() -> None:
    found = responses_from_events(_events(), teams={"a1": "t1", "a2": "t2"}, definitions=[SURVEY])
    assert [(r.contact_id, r.channel, r.team, r.overall, r.nps) for r in found] == [
        ("v1", "voice", "t1", 5, None),
        ("L1", "chat", "t2", 4, None),
        ("e1", "email", "t2", 2, 3),
    ]
    page = found[2]
    assert (page.product, page.resolved, page.comments) == ("washer", False, ("太慢",))
    whole = figures(found)
    assert (whole.csat.share, whole.csat.n, whole.dsat.share) == (2 / 3, 3, 0.0)
    assert (whole.nps.score, whole.nps.n, whole.resolved.share) == (-100.0, 1, 0.0)
    by_product = {g.group: g.responses for g in group_figures(found, by="product")}
    assert by_product == {"unknown": 2, "washer": 1}
    with pytest.raises(ValueError, match="cannot group survey responses by 'site'"):
        group_figures(found, by="site")  # type: ignore[arg-type]


def test_drivers_rank_what_moves_the_overall_answer() -> None:
    """Speed tracks the overall answer, recommendation does not: speed is the more important."""
    rows = [(5, 5, 7, True), (4, 4, 9, True), (2, 1, 8, False), (1, 2, 7, False), (3, 3, 9, True)]
    responses = responses_from_events(
        [
            Event(
                i,
                float(i),
                EventKind.SURVEY_ANSWERED,
                f"c{i}",
                "a1",
                "q",
                Channel.VOICE,
                {
                    "survey": "after",
                    "answers": {"overall": o, "speed": s, "recommend": r, "solved": ok},
                },
            )
            for i, (o, s, r, ok) in enumerate(rows)
        ],
        teams={},
        definitions=[SURVEY],
    )
    matrix = {d.question: d for d in drivers(responses, SURVEY)}
    assert set(matrix) == {"speed", "recommend", "solved"}
    assert matrix["speed"].importance == pytest.approx(0.9, abs=0.01)
    assert abs(matrix["recommend"].importance or 0) < 0.2
    assert matrix["solved"].performance == pytest.approx(0.6)
    assert matrix["speed"].performance == pytest.approx(0.5)


def test_dissatisfied_comments_are_grouped_by_their_chinese_and_english_words() -> None:
    comments = [
        "师傅迟到了两个小时",
        "上门师傅迟到，还不道歉",
        "The engineer was late",
        "热水器修了还是不加热",
        "热水器还是不加热，白修了",
        "电话一直打不通，等了很久",
        "电话打不通",
        "!!!",  # no words: left out
    ]
    groups = root_causes(comments, seed=3)
    assert sum(g.size for g in groups) == 7
    assert root_causes(comments, seed=3) == groups  # the same seed, the same report
    by_keyword = {word: g for g in groups for word in g.keywords}
    assert by_keyword["迟到"] is by_keyword["师傅"]
    assert by_keyword["热水器"].example in comments[3:5]
    assert by_keyword["电话"].size == 2
    assert len(groups) == 3  # ⌈√7⌉
    assert root_causes(["!!!"]) == []
