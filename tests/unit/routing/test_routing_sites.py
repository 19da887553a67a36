"""Sites in routing: a caller's region prefers its site's agents for a while; overflow across
sites.

A center with two sites (合肥 hefei, 成都 chengdu) whose agents serve the same queue: a caller
from hefei's region (``ContactQueued(caller_site="hefei")``) is offered only to hefei's agents
for the queue's ``prefer_caller_site_s``, then to anyone eligible — the sticky agent's
preference, for a set of agents.
"""

from __future__ import annotations

from collections.abc import Sequence

from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    ContactQueued,
    Offer,
    OfferRejected,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
)


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


def _offers(effects: Sequence[object]) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in effects if isinstance(e, Offer)]


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
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig(
                    "repair-hefei",
                    requirements=("repair", "hefei_desk"),
                    wrap_up_s=0,
                    overflow=(
                        OverflowRule(
                            OverflowCondition.WAIT_EXCEEDS,
                            OverflowAction.QUEUE,
                            60,
                            "repair-chengdu",
                        ),
                    ),
                ),
                QueueConfig("repair-chengdu", requirements=("repair", "chengdu_desk")),
            ),
            agents=(
                AgentConfig("hf1", skills={"repair": 2, "hefei_desk": 1}, site="hefei"),
                AgentConfig("cd1", skills={"repair": 2, "chengdu_desk": 1}, site="chengdu"),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0.0, agent_id="hf1", ready=False, reason="lunch"))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="cd1"))
    queued = engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair-hefei"))
    assert _offers(queued.effects) == []  # cd1 does not serve hefei's queue
    assert _offers(engine.advance(60.9).effects) == []
    moved = engine.advance(61.0)
    assert _offers(moved.effects) == [("c1", "cd1")]
    [overflowed] = [e for e in moved.events if e.kind.value == "overflowed"]
    assert overflowed.queue == "repair-hefei"
