"""Sites in routing: a caller's region prefers its site's agents for a while; overflow across
sites.

A center with two sites (合肥 hefei, 成都 chengdu) whose agents serve the same queue: a caller
from hefei's region (``ContactQueued(caller_site="hefei")``) is offered only to hefei's agents
for the queue's ``prefer_caller_site_s``, then to anyone eligible — the sticky agent's
preference, for a set of agents.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.events import EventKind
from hotline.routing.engine import Result, RoutingEngine, apply_ready
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    Command,
    ContactQueued,
    Offer,
    OfferRejected,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
)
from tests.unit.routing.test_routing_properties import AGENTS, CONFIG, EXTRAS, QUEUES
from tests.unit.routing.test_routing_sticky import _offers, operation, random_traffic


def _center(*, prefer_s: float = 30, hefei_ready: bool = False) -> RoutingEngine:
    """Queue ``repair`` served by one agent in hefei and one in chengdu (who is free)."""
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig(
                    "repair", requirements=("repair",), wrap_up_s=0, prefer_caller_site_s=prefer_s
                ),
            ),
            agents=(
                AgentConfig("hf1", skills={"repair": 2}, site="hefei"),
                AgentConfig("cd1", skills={"repair": 2}, site="chengdu"),
            ),
            regions={"0551": "hefei", "028": "chengdu"},
        )
    )
    if hefei_ready:
        engine.handle(AgentLoggedIn(at=0.0, agent_id="hf1"))
    else:
        engine.handle(AgentLoggedIn(at=0.0, agent_id="hf1", ready=False, reason="break"))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="cd1"))
    return engine


def test_a_caller_from_hefei_waits_for_hefei_then_chengdu_takes_it_after_the_time() -> None:
    engine = _center()
    queued = engine.handle(
        ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="hefei")
    )
    assert _offers(queued.effects) == []  # cd1 is free, but the caller waits for hefei
    assert engine.position("c1") == 1
    assert _offers(engine.advance(30.9).effects) == []
    assert _offers(engine.advance(31.0).effects) == [("c1", "cd1")]


def test_a_hefei_agent_coming_free_in_time_takes_the_hefei_caller() -> None:
    engine = _center()
    engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="hefei"))
    ready = engine.handle(AgentReady(at=5.0, agent_id="hf1"))
    assert _offers(ready.effects) == [("c1", "hf1")]


def test_the_site_beats_the_strategy_when_both_sites_are_free() -> None:
    # longest idle would choose hf1 (idle since 0); the chengdu caller is offered cd1.
    engine = _center(hefei_ready=True)
    engine.handle(AgentNotReady(at=0.5, agent_id="cd1", reason="break"))
    engine.handle(AgentReady(at=0.6, agent_id="cd1"))
    queued = engine.handle(
        ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="chengdu")
    )
    assert _offers(queued.effects) == [("c1", "cd1")]
    other = engine.handle(ContactQueued(at=2.0, contact_id="c2", queue="repair"))
    assert _offers(other.effects) == [("c2", "hf1")]  # no site: the strategy as before


def test_a_declined_offer_ends_the_site_preference_at_once() -> None:
    engine = _center()
    engine.handle(AgentNotReady(at=0.5, agent_id="cd1", reason="break"))
    engine.handle(AgentReady(at=0.6, agent_id="hf1"))
    queued = engine.handle(
        ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="hefei")
    )
    assert _offers(queued.effects) == [("c1", "hf1")]
    engine.handle(OfferRejected(at=3.0, contact_id="c1", agent_id="hf1"))
    back = engine.handle(AgentReady(at=4.0, agent_id="cd1"))
    assert _offers(back.effects) == [("c1", "cd1")]


def test_no_preference_without_the_queues_time_or_without_agents_of_that_site() -> None:
    unset = _center(prefer_s=0)
    queued = unset.handle(
        ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="hefei")
    )
    assert _offers(queued.effects) == [("c1", "cd1")]
    engine = _center()
    nobody = engine.handle(
        ContactQueued(at=1.0, contact_id="c2", queue="repair", caller_site="wuhan")
    )
    assert _offers(nobody.effects) == [("c2", "cd1")]  # no wuhan agent: nobody to wait for
    away = _center()
    away.handle(AgentLoggedOut(at=2.0, agent_id="hf1"))
    gone = away.handle(ContactQueued(at=3.0, contact_id="c3", queue="repair", caller_site="hefei"))
    assert _offers(gone.effects) == [("c3", "cd1")]  # hefei's agents all logged out


def test_a_sticky_agent_comes_before_the_callers_site() -> None:
    engine = _center()
    queued = engine.handle(
        ContactQueued(
            at=1.0,
            contact_id="c1",
            queue="repair",
            preferred_agent="cd1",
            preferred_for_s=10,
            caller_site="hefei",
        )
    )
    assert _offers(queued.effects) == [("c1", "cd1")]


def test_the_longest_region_prefix_names_the_callers_site() -> None:
    config = RoutingConfig(
        queues=(), regions={"0551": "hefei", "05512": "huainan", "+8628": "chengdu"}
    )
    assert config.site_of_number("0551 6288 1234") == "hefei"
    assert config.site_of_number("05512345678") == "huainan"
    assert config.site_of_number("+862887654321") == "chengdu"
    assert config.site_of_number("13800138000") is None
    assert config.site_of_number(None) is None


def test_a_queue_overflows_to_another_sites_queue_whose_agent_answers() -> None:
    engine = _two_site_queues(OverflowCondition.WAIT_EXCEEDS, 60)
    engine.handle(AgentLoggedIn(at=0.0, agent_id="hf1", ready=False, reason="lunch"))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="cd1"))
    queued = engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair-hefei"))
    assert _offers(queued.effects) == []  # cd1 does not serve hefei's queue
    assert _offers(engine.advance(60.9).effects) == []
    moved = engine.advance(61.0)
    assert _offers(moved.effects) == [("c1", "cd1")]
    [overflowed] = [e for e in moved.events if e.kind.value == "overflowed"]
    assert overflowed.queue == "repair-hefei"


def _two_site_queues(when: OverflowCondition, value: float | None = None) -> RoutingEngine:
    """Hefei's repair queue overflows to chengdu's by ``when``; each site's agent serves its
    own site's queue only."""
    return RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig(
                    "repair-hefei",
                    requirements=("repair", "hefei_desk"),
                    wrap_up_s=0,
                    overflow=(OverflowRule(when, OverflowAction.QUEUE, value, "repair-chengdu"),),
                ),
                QueueConfig("repair-chengdu", requirements=("repair", "chengdu_desk")),
            ),
            agents=(
                AgentConfig("hf1", skills={"repair": 2, "hefei_desk": 1}, site="hefei"),
                AgentConfig("cd1", skills={"repair": 2, "chengdu_desk": 1}, site="chengdu"),
            ),
        )
    )


def test_with_no_hefei_agent_free_the_caller_goes_on_to_chengdus_queue_at_once() -> None:
    engine = _two_site_queues(OverflowCondition.NO_AGENT_FREE)
    engine.handle(AgentLoggedIn(at=0.0, agent_id="hf1"))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="cd1"))
    first = engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair-hefei"))
    assert _offers(first.effects) == [("c1", "hf1")]  # hefei's agent was free: it stays
    second = engine.handle(ContactQueued(at=2.0, contact_id="c2", queue="repair-hefei"))
    assert _offers(second.effects) == [("c2", "cd1")]  # hefei busy: on to chengdu at once
    [overflowed] = [e for e in second.events if e.kind is EventKind.OVERFLOWED]
    assert (overflowed.queue, overflowed.data) == (
        "repair-hefei",
        {"to": "repair-chengdu", "reason": "no_agent_free"},
    )
    third = engine.handle(ContactQueued(at=3.0, contact_id="c3", queue="repair-hefei"))
    assert _offers(third.effects) == []
    assert engine.position("c3") == 1  # chengdu busy too: it waits there, its place kept
    assert [e.queue for e in third.events if e.kind is EventKind.QUEUED] == [
        "repair-hefei",
        "repair-chengdu",
    ]


def test_a_saved_configuration_brings_new_regions_and_sites_into_force() -> None:
    engine = _center()
    target = RoutingConfig(
        queues=engine.config.queues,
        agents=(
            AgentConfig("hf1", skills={"repair": 2}, site="hefei"),
            AgentConfig("cd1", skills={"repair": 2}, site="wuhan"),  # moved
        ),
        regions={"0551": "hefei", "027": "wuhan"},
    )
    _, waiting = apply_ready(engine, target)
    assert waiting == {}
    assert engine.config.site_of_number("02712345678") == "wuhan"
    assert engine.config.site_of_number("02887654321") is None
    queued = engine.handle(
        ContactQueued(at=1.0, contact_id="c1", queue="repair", caller_site="wuhan")
    )
    assert _offers(queued.effects) == [("c1", "cd1")]


# ----------------------------------------------------------------------------- property

SITES = ("hefei", "chengdu", "wuhan")  # wuhan: nobody works there
SITE_OF = {a.id: ("hefei" if i < 2 else "chengdu") for i, a in enumerate(AGENTS)}
SITE_CONFIG = dataclasses.replace(
    CONFIG,
    queues=tuple(dataclasses.replace(q, prefer_caller_site_s=15.0) for q in QUEUES),
    agents=tuple(dataclasses.replace(a, site=SITE_OF[a.id]) for a in AGENTS),
)


def drive(ops: list[tuple[int, int, int, float]]) -> None:
    """Random traffic where most contacts come from a site's region; check every offer."""
    window: dict[str, tuple[str, float]] = {}  # contact -> (its site, until)
    offered: set[str] = set()

    def arrival(now: float, contact_id: str, k: int, j: int) -> ContactQueued:
        requirements, language = EXTRAS[j % len(EXTRAS)]
        return ContactQueued(
            at=now,
            contact_id=contact_id,
            queue=QUEUES[k % len(QUEUES)].id,
            priority=j % 2,
            requirements=requirements,
            language=language,
            caller_site=SITES[(k + j) % len(SITES)] if (k + j) % 4 else None,
        )

    def observe(result: Result, at: float, command: Command | None) -> None:
        if isinstance(command, ContactQueued) and command.caller_site is not None:
            # The preference held where the queue's agents are of that site and another's.
            for event in result.events:
                if event.kind is EventKind.QUEUED and any(
                    text.startswith("@site:") for text in event.data["requirements"]
                ):
                    window[command.contact_id] = (command.caller_site, at + 15.0)
        for effect in result.effects:
            if not isinstance(effect, Offer) or effect.kind != "queue":
                continue
            preference = window.get(effect.contact_id)
            if preference is not None and effect.contact_id not in offered:
                site, until = preference
                assert SITE_OF[effect.agent_id] == site or at >= until, (
                    f"{effect.contact_id} offered to {effect.agent_id} at {at}, "
                    f"while it waits for {site} until {until}"
                )
            offered.add(effect.contact_id)

    random_traffic(RoutingEngine(SITE_CONFIG), ops, arrival=arrival, observe=observe)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=120))
def test_a_site_preference_is_offered_only_to_that_site_and_never_blocks_after(
    ops: list[tuple[int, int, int, float]],
) -> None:
    """Before the time: only the caller's site's agents are offered the contact. Always: no
    pool holds a waiting contact and a ready agent who could take it."""
    drive(ops)
