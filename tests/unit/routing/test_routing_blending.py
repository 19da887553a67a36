"""Blending: which of a dialler's held agents takes an answered outbound call.

The routing engine decides (:meth:`RoutingEngine.choose_held`), by the campaign queue's own
rules as for an inbound contact of it — its rings (skills), then its strategy (proficiency) —
not the dialler's "the one free longest".
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.routing.engine import RoutingEngine
from hotline.routing.model import AgeingStep, AgentConfig, QueueConfig, RoutingConfig, Strategy


def _engine(strategy: Strategy) -> RoutingEngine:
    repair = QueueConfig(
        "repair",
        requirements=("repair >= 3",),
        strategy=strategy,
        ageing=(AgeingStep(after_s=30, min_proficiency=1),),
    )
    return RoutingEngine(
        RoutingConfig(
            queues=(repair,),
            agents=(
                AgentConfig("novice", skills={"repair": 1}),
                AgentConfig("good", skills={"repair": 3}),
                AgentConfig("expert", skills={"repair": 5}),
                AgentConfig("sales", skills={"sales": 5}),
            ),
        )
    )


def test_an_agent_of_the_queue_s_first_ring_comes_before_the_one_free_longest() -> None:
    engine = _engine(Strategy.LONGEST_IDLE)
    # the dialler's order: the one free longest first
    assert engine.choose_held("repair", ["sales", "novice", "good"]) == "good"
    assert engine.choose_held("repair", ["sales", "novice"]) == "novice"  # a later ring
    assert engine.choose_held("repair", ["sales"]) == "sales"  # the customer is not left
    # longest idle among equals: the dialler's order (the engine's idle clocks stand still
    # for agents it holds not ready)
    assert engine.choose_held("repair", ["good", "expert"]) == "good"
    assert engine.choose_held("repair", ["expert", "good"]) == "expert"


def test_highest_proficiency_takes_the_best_of_the_first_ring_whatever_the_order() -> None:
    engine = _engine(Strategy.HIGHEST_PROFICIENCY)
    assert engine.choose_held("repair", ["novice", "good", "expert"]) == "expert"
    assert engine.choose_held("repair", ["good", "novice"]) == "good"


def test_no_free_agent_no_choice_and_an_unknown_queue_keeps_the_dialler_s_order() -> None:
    engine = _engine(Strategy.HIGHEST_PROFICIENCY)
    assert engine.choose_held("repair", []) is None
    assert engine.choose_held("nowhere", ["novice", "expert"]) == "novice"
    assert engine.choose_held("repair", ["ghost", "novice"]) == "novice"  # unknown agent last


AGENTS = ("novice", "good", "expert", "sales", "ghost")


@given(
    st.lists(st.sampled_from(AGENTS), min_size=1, unique=True),
    st.sampled_from(list(Strategy)),
)
def test_the_choice_is_one_of_the_free_agents_and_none_better_placed_is_passed_over(
    free: list[str], strategy: Strategy
) -> None:
    engine = _engine(strategy)
    chosen = engine.choose_held("repair", free)
    assert chosen in free
    ring = {"expert": 0, "good": 0, "novice": 1, "sales": 2, "ghost": 3}
    assert ring[chosen] == min(ring[agent] for agent in free)
