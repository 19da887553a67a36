"""Which queues' tickets an agent sees: the queues whose requirements routing says they meet."""

from __future__ import annotations

import pytest

from hotline.config.validate import check_text
from hotline.core.requirements import matches_all, parse_requirements
from hotline.web.api.tickets import agent_queues

CENTER = """\
center: {name: Demo, languages: [zh-CN, en]}
skills:
  - {id: repair}
  - {id: vip}
queues:
  - {id: repair, requirements: ['repair >= 2'], target: {service_level: 0.8, threshold_s: 20}}
  - {id: expert, requirements: ['repair > 3'], target: {service_level: 0.8, threshold_s: 20}}
  - {id: exact, requirements: ['repair == 3'], target: {service_level: 0.8, threshold_s: 20}}
  - {id: vip, requirements: [vip], target: {service_level: 0.8, threshold_s: 20}}
  - {id: english, requirements: [repair, 'lang:en'], target: {service_level: 0.8, threshold_s: 20}}
  - {id: anyone, target: {service_level: 0.8, threshold_s: 20}}
teams:
  - {id: t1}
agents:
  - {id: a001, team: t1, skills: {repair: 3}, languages: [zh-CN]}
  - {id: a002, team: t1, skills: {repair: 4, vip: 1}, languages: [zh-CN, en]}
  - {id: a003, team: t1, skills: {}, languages: [en]}
"""


@pytest.mark.parametrize(
    ("agent", "queues"),
    [
        ("a001", {"repair", "exact", "anyone"}),
        ("a002", {"repair", "expert", "vip", "english", "anyone"}),
        ("a003", {"anyone"}),
        ("nobody", set()),
    ],
)
def test_an_agent_sees_the_queues_routing_would_offer_them(agent: str, queues: set[str]) -> None:
    result = check_text(CENTER, file="center.yaml")
    assert result.errors == [] and result.config is not None
    center = result.config
    assert agent_queues(center, agent) == queues
    for person in center.agents:
        if person.id == agent:  # the same answer as the routing grammar's own matching
            assert queues == {
                q.id
                for q in center.queues
                if matches_all(
                    parse_requirements(q.requirements), person.skills, frozenset(person.languages)
                )
            }
