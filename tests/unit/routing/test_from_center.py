"""The center file drives the engine: the sample appliance center, end to end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.config.validate import load_center
from hotline.core.events import Channel, EventKind
from hotline.routing.engine import RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    AgentLoggedIn,
    ContactQueued,
    Offer,
    PlayClosedMessage,
    PriorityMode,
    RouteToVoicemail,
    Strategy,
)

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).timestamp()


def sample_engine(now: float) -> RoutingEngine:
    """The sample center with every agent logged in and ready at ``now``."""
    center = load_center(SAMPLE)
    engine = RoutingEngine(routing_config_from_center(center, seed=1))
    for agent in center.agents:
        engine.handle(AgentLoggedIn(at=now, agent_id=agent.id))
    return engine


def test_sample_center_maps_every_queue_and_agent() -> None:
    center = load_center(SAMPLE)
    config = routing_config_from_center(center)
    queues = {q.id: q for q in config.queues}
    assert set(queues) == {q.id for q in center.queues}
    assert len(config.agents) == len(center.agents) == 40
    vip = queues["vip"]
    assert vip.strategy is Strategy.HIGHEST_PROFICIENCY
    assert vip.priority_mode is PriorityMode.STRICT and vip.default_priority == 10
    assert vip.target_threshold_s == 5 and vip.target_service_level == 0.99
    assert [step.after_s for step in vip.ageing] == [10, 30]
    assert queues["chat"].channel is Channel.CHAT
    assert config.default_capacity[Channel.EMAIL] == 5
    assert queues["repair"].calendar is not None


def test_sample_center_routes_vip_callers_to_the_most_proficient_vip_agent() -> None:
    now = at(2026, 11, 23, 10, 0)  # a Monday morning
    engine = sample_engine(now)
    center = load_center(SAMPLE)
    vip_levels = {a.id: a.skills.get("vip", 0) for a in center.agents}
    result = engine.handle(ContactQueued(at=now + 1, contact_id="v1", queue="vip"))
    (offer,) = [e for e in result.effects if isinstance(e, Offer)]
    assert vip_levels[offer.agent_id] == max(vip_levels.values())
    chat = engine.handle(ContactQueued(at=now + 2, contact_id="ch1", queue="chat"))
    (offer,) = [e for e in chat.effects if isinstance(e, Offer)]
    assert engine.capacity(offer.agent_id, Channel.CHAT) == 3


def test_sample_center_is_closed_on_spring_festival_but_vip_is_24x7() -> None:
    festival = at(2026, 2, 17, 11, 0)
    engine = sample_engine(festival)
    result = engine.handle(ContactQueued(at=festival, contact_id="v1", queue="vip"))
    assert any(isinstance(e, Offer) for e in result.effects)
    result = engine.handle(ContactQueued(at=festival, contact_id="r1", queue="repair"))
    assert PlayClosedMessage("r1", "repair") in result.effects
    result = engine.handle(ContactQueued(at=festival, contact_id="c1", queue="complaints"))
    assert RouteToVoicemail("c1", "complaints") in result.effects
    finished = [e for e in result.events if e.kind is EventKind.FINISHED]
    assert [e.data["outcome"] for e in finished] == ["overflowed"]


def test_demo_mode_ignores_hours() -> None:
    center = load_center(SAMPLE)
    engine = RoutingEngine(routing_config_from_center(center, honour_hours=False))
    engine.handle(AgentLoggedIn(at=0, agent_id="a011"))
    result = engine.handle(ContactQueued(at=1, contact_id="r1", queue="repair"))
    assert not any(isinstance(e, PlayClosedMessage) for e in result.effects)
