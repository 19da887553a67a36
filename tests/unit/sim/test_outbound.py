"""Campaign and blended days in the simulator: the real engine, the cap, determinism."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.pacing.adaptive import AdaptivePacer
from hotline.pacing.pacers import PredictivePacer, ProgressivePacer
from hotline.sim.distributions import LogNormal
from hotline.sim.outbound import CampaignDay, Customers, InboundQueue, run_day

DAY = CampaignDay(agents=10, day_s=3 * 3600.0, breaks=((3600.0, 900.0),), not_ready_per_hour=1.0)


@pytest.fixture(scope="module")
def days():
    return {
        pacer.name: run_day(DAY, pacer, seed=11)
        for pacer in (ProgressivePacer(), PredictivePacer(), AdaptivePacer())
    }


def test_predictive_keeps_the_cap_at_every_instant_and_works_more_than_progressive(days):
    predictive, progressive = days["predictive"], days["progressive"]
    assert predictive.max_exposure_over_allowance <= 0
    assert predictive.abandoned * 100 <= 3 * predictive.answered
    assert predictive.safe_messages == predictive.abandoned
    assert progressive.abandoned == 0
    assert predictive.productivity > progressive.productivity


def test_answered_calls_go_through_the_routing_engine_event_log(days):
    result = days["predictive"]
    kinds: dict[str, int] = {}
    for event in result.events:
        if event.contact_id and event.contact_id.startswith("call-"):
            kinds[event.kind.value] = kinds.get(event.kind.value, 0) + 1
    assert kinds["queued"] == result.answered
    assert kinds["answered"] == result.connected
    assert kinds.get("abandoned", 0) == result.abandoned


def test_the_customers_answer_at_the_configured_rate(days):
    result = days["progressive"]
    assert 0.38 < result.answered / result.dialled < 0.52  # 45 % ± the day's swing


def test_the_same_seed_gives_the_same_day():
    again = [run_day(DAY, PredictivePacer(), seed=5) for _ in range(2)]
    assert (again[0].dialled, again[0].abandoned, again[0].talk_s) == (
        again[1].dialled,
        again[1].abandoned,
        again[1].talk_s,
    )


def test_a_list_of_leads_runs_out_once_every_lead_is_connected():
    day = CampaignDay(agents=3, day_s=3600.0, breaks=(), leads=40)
    result = run_day(day, PredictivePacer(), seed=2)
    assert result.connected == 40
    assert result.dialled > 40  # leads not reached were dialled again


def test_blended_inbound_keeps_its_service_level_while_outbound_fills_idle_time():
    vip = InboundQueue(
        "vip",
        rates_per_hour=(20.0, 20.0),
        priority=10,
        service_level=0.99,
        threshold_s=5.0,
        outbound_reserve=2,
    )
    day = CampaignDay(
        agents=10, day_s=2 * 3600.0, breaks=(), inbound=(vip,), not_ready_per_hour=0.0
    )
    result = run_day(day, PredictivePacer(), seed=3)
    assert result.inbound_service_level["vip"] is not None
    assert result.inbound_service_level["vip"] >= 0.95
    assert result.connected > 100
    assert result.max_exposure_over_allowance <= 0


def test_a_not_ready_rate_too_small_to_divide_means_no_personal_not_ready():
    """Hypothesis found it: 5e-324 an hour is 0.0 a second, and drawing the first spell
    divided by zero."""
    day = CampaignDay(agents=1, day_s=600.0, breaks=(), not_ready_per_hour=5e-324)
    assert run_day(day, PredictivePacer(), seed=1).dialled > 0


def test_customers_out_of_range_are_refused():
    with pytest.raises(ValueError, match="answer_rate"):
        Customers(answer_rate=0.95, answer_swing=0.1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agents=st.integers(min_value=1, max_value=15),
    answer_rate=st.floats(min_value=0.3, max_value=0.6),
    ring_mean=st.floats(min_value=2.0, max_value=20.0),
    talk_mean=st.floats(min_value=20.0, max_value=600.0),
    not_ready_per_hour=st.floats(min_value=0.0, max_value=12.0),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_the_cap_holds_on_any_simulated_day(
    agents, answer_rate, ring_mean, talk_mean, not_ready_per_hour, seed
):
    """Whatever the customers and agents do, the predictive pacer's day stays within 3 %."""
    customers = Customers(
        answer_rate=answer_rate,
        answer_swing=0.0,
        ring_before_answer=LogNormal(ring_mean, ring_mean),
        talk=LogNormal(talk_mean, talk_mean * 1.5),
    )
    day = CampaignDay(
        agents=agents,
        day_s=1800.0,
        customers=customers,
        breaks=((600.0, 300.0),),
        not_ready_per_hour=not_ready_per_hour,
        not_ready_s=60.0,
    )
    result = run_day(day, PredictivePacer(marginal_risk=0.9), seed=seed)
    assert result.max_exposure_over_allowance <= 0
    assert result.abandoned * 100 <= 3 * result.answered
