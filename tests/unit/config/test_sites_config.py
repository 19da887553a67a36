"""Sites in the center file: regions that name a caller's site, overflow across sites, the
site's calendar for queues without their own — checked with located errors, and carried to
the routing engine."""

from __future__ import annotations

from hotline.config.validate import check_text, load_center
from hotline.routing.from_center import routing_config_from_center

CENTER = """\
center:
  name: Two sites
  default_calendar: always
sites:
  - {id: hefei, calendar: weekdays, regions: ['0551', '+86551']}
  - {id: chengdu, regions: ['028', '+8628']}
calendars:
  - id: always
    hours: {mon: ['00:00-24:00'], tue: ['00:00-24:00'], wed: ['00:00-24:00'],
            thu: ['00:00-24:00'], fri: ['00:00-24:00'], sat: ['00:00-24:00'],
            sun: ['00:00-24:00']}
  - id: weekdays
    hours: {mon: ['08:00-18:00'], tue: ['08:00-18:00']}
skills:
  - {id: repair}
queues:
  - id: repair-hefei
    site: hefei
    requirements: ['repair']
    target: {service_level: 0.8, threshold_s: 20}
    prefer_caller_site_s: 20
    overflow:
      - {when: wait_exceeds, value: 60, action: queue, target: repair-chengdu, site: chengdu}
  - id: repair-chengdu
    site: chengdu
    requirements: ['repair']
    target: {service_level: 0.8, threshold_s: 20}
teams:
  - {id: t-hf, site: hefei}
  - {id: t-cd, site: chengdu}
agents:
  - {id: hf1, team: t-hf, skills: {repair: 3}}
  - {id: cd1, team: t-cd, site: chengdu, skills: {repair: 3}}
"""


def _errors(text: str) -> list[str]:
    return [str(p) for p in check_text(text, file="center.yaml").errors]


def test_the_two_site_center_is_valid() -> None:
    result = check_text(CENTER, file="center.yaml")
    assert result.errors == [] and result.warnings == []


def test_a_region_claimed_by_two_sites_is_a_located_error() -> None:
    twice = CENTER.replace("regions: ['028', '+8628']", "regions: ['028', '0551']")
    assert _errors(twice) == [
        "center.yaml:6: sites[1].regions[1]: region '0551' is claimed by site 'hefei' and "
        "site 'chengdu': a calling-number prefix belongs to one site"
    ]


def test_a_region_is_a_number_prefix() -> None:
    [error] = _errors(CENTER.replace("'+8628'", "'area 28'"))
    assert error.startswith("center.yaml:6: sites[1].regions[1]:")


def test_an_overflow_naming_a_site_must_go_to_that_sites_queue() -> None:
    wrong = CENTER.replace(
        "target: repair-chengdu, site: chengdu", "target: repair-chengdu, site: hefei"
    )
    assert _errors(wrong) == [
        "center.yaml:23: queues[0].overflow[0].site: overflow target queue 'repair-chengdu' "
        "belongs to site 'chengdu', not 'hefei'"
    ]
    unknown = CENTER.replace(
        "target: repair-chengdu, site: chengdu", "target: repair-chengdu, site: wuhan"
    )
    assert _errors(unknown) == [
        "center.yaml:23: queues[0].overflow[0].site: unknown site 'wuhan' (defined: chengdu, hefei)"
    ]


def test_a_site_preference_without_any_region_is_a_warning() -> None:
    bare = CENTER.replace(", regions: ['0551', '+86551']", "").replace(
        ", regions: ['028', '+8628']", ""
    )
    result = check_text(bare, file="center.yaml")
    assert result.errors == []
    assert [p.field for p in result.warnings] == ["queues[0].prefer_caller_site_s"]


def test_the_engine_gets_agents_sites_regions_and_the_sites_calendar(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "center.yaml"
    path.write_text(CENTER, encoding="utf-8")
    config = routing_config_from_center(load_center(path))
    assert {a.id: a.site for a in config.agents} == {"hf1": "hefei", "cd1": "chengdu"}
    assert config.site_of_number("+8655162881234") == "hefei"
    hefei, chengdu = config.queues
    assert hefei.prefer_caller_site_s == 20
    # repair-hefei names no calendar: its site's (weekdays, closed on Sunday) holds.
    assert hefei.calendar is not None and hefei.calendar.weekly[6] == ()
    # chengdu's site has none: the center's default (always open).
    assert chengdu.calendar is not None and chengdu.calendar.weekly[6] == ((0, 86400),)


def test_overflow_when_no_agent_is_free_may_not_loop_back() -> None:
    busy = CENTER.replace("{when: wait_exceeds, value: 60,", "{when: no_agent_free,")
    assert _errors(busy) == []
    looped = busy.replace(
        "    target: {service_level: 0.8, threshold_s: 20}\nteams:",
        "    target: {service_level: 0.8, threshold_s: 20}\n"
        "    overflow: [{when: no_agent_free, action: queue, target: repair-hefei}]\nteams:",
    )
    assert _errors(looped) == [
        "center.yaml:22: queues[0].overflow: overflow when no agent is free loops back to "
        "'repair-hefei'",
        "center.yaml:28: queues[1].overflow: overflow when no agent is free loops back to "
        "'repair-chengdu'",
    ]
