"""The sampling plan (targeted first, then random stratified), segments and the dispute flow."""

from __future__ import annotations

from collections import Counter

import pytest

from hotline.quality.sampling import Candidate, allocate, plan_sample
from hotline.quality.segments import timeline
from hotline.quality.workflow import TransitionRefused, transition

HOUR = 3600.0


def _month(agent: str, count: int, *, queue_mix: dict[tuple[str, str], int]) -> list[Candidate]:
    out: list[Candidate] = []
    i = 0
    for (queue, channel), n in queue_mix.items():
        for _ in range(n):
            out.append(Candidate(f"{agent}-{i}", agent, queue, channel, 180.0, i * HOUR))
            i += 1
    assert len(out) == count
    return out


def _plan(candidates: list[Candidate], **kw: object) -> list:  # type: ignore[type-arg]
    options = {
        "per_agent": 6,
        "seed": 1,
        "long_call_s": 600.0,
        "long_calls": 1,
        "transfers": 1,
        "repeat_callers": 1,
    } | kw
    return plan_sample(candidates, **options)  # type: ignore[arg-type]


def test_targeted_contacts_come_first_then_random_in_proportion_to_strata() -> None:
    contacts = _month("a1", 100, queue_mix={("repair", "voice"): 75, ("care", "chat"): 25})
    contacts[10] = Candidate("long", "a1", "repair", "voice", 1500.0, 10 * HOUR)
    contacts[20] = Candidate("xfer", "a1", "repair", "voice", 200.0, 20 * HOUR, transferred=True)
    contacts[30] = Candidate("rep1", "a1", "repair", "voice", 200.0, 30 * HOUR, customer="138")
    contacts.append(Candidate("rep2", "a2", "care", "chat", 100.0, 31 * HOUR, customer="138"))
    picks = [p for p in _plan(contacts) if p.agent == "a1"]
    assert [(p.contact_id, p.reason) for p in picks[:3]] == [
        ("long", "long_call"),
        ("xfer", "transfer"),
        ("rep1", "repeat_caller"),
    ]
    random_picks = picks[3:]
    assert len(random_picks) == 3 and {p.reason for p in random_picks} == {"random"}
    # 72 repair calls and 25 chats left: 3 random picks split 2 : 1 (largest remainder)
    assert Counter(p.stratum for p in random_picks) == {"repair/voice": 2, "care/chat": 1}


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    contacts = _month("a1", 60, queue_mix={("repair", "voice"): 60})
    first = _plan(contacts, seed=5)
    assert first == _plan(contacts, seed=5)
    assert first != _plan(contacts, seed=6)


def test_already_evaluated_contacts_are_not_picked_again_and_small_months_take_all() -> None:
    contacts = _month("a1", 4, queue_mix={("repair", "voice"): 4})
    picks = _plan(contacts, already=frozenset({"a1-0"}))
    assert sorted(p.contact_id for p in picks) == ["a1-1", "a1-2", "a1-3"]


def test_a_repeat_needs_the_second_contact_within_24_hours() -> None:
    contacts = [
        Candidate("c1", "a1", "q", "voice", 60.0, 0.0, customer="138"),
        Candidate("c2", "a1", "q", "voice", 60.0, 25 * HOUR, customer="138"),
    ]
    picks = _plan(contacts, per_agent=1, long_calls=0, transfers=0)
    assert picks[0].reason == "random"


@pytest.mark.parametrize("picks", range(0, 12))
def test_allocation_never_exceeds_a_stratum_and_sums_to_the_picks(picks: int) -> None:
    sizes = {"a": 1, "b": 3, "c": 7}
    shares = allocate(sizes, picks)
    assert sum(shares.values()) == min(picks, 11)
    assert all(shares[k] <= sizes[k] for k in sizes)


def test_segments_follow_holds_and_transfers_from_the_event_log() -> None:
    log = [
        (100.0, "arrived"),
        (104.0, "queued"),
        (110.0, "answered"),
        (110.0, "recording_started"),
        (140.0, "held"),
        (160.0, "resumed"),
        (170.0, "transferred"),
        (170.0, "queued"),
        (175.0, "answered"),
        (200.0, "disconnected"),
        (230.0, "wrap_up_ended"),
    ]
    found = [(s.kind, s.start_s, s.end_s) for s in timeline(log, recording_start=110.0)]
    assert found == [
        ("ivr", -10.0, -6.0),
        ("queue", -6.0, 0.0),
        ("talk", 0.0, 30.0),
        ("hold", 30.0, 50.0),
        ("talk", 50.0, 60.0),
        ("queue", 60.0, 65.0),
        ("talk", 65.0, 90.0),
        ("transfer", 60.0, 60.0),
    ]


def test_only_the_agent_acknowledges_or_disputes_and_a_dispute_needs_a_reason() -> None:
    assert transition("submitted", "acknowledge", actor_agent="a1", agent="a1") == "acknowledged"
    with pytest.raises(TransitionRefused, match="only the evaluated agent"):
        transition("submitted", "acknowledge", actor_agent="a2", agent="a1")
    with pytest.raises(TransitionRefused, match="needs a reason"):
        transition("submitted", "dispute", actor_agent="a1", agent="a1", reason="  ")
    with pytest.raises(TransitionRefused, match="cannot uphold an evaluation that is submitted"):
        transition("submitted", "uphold", reviewer="boss", evaluator="qa")
    with pytest.raises(TransitionRefused, match="cannot review a dispute of their own"):
        transition("disputed", "amend", reviewer="qa", evaluator="qa")
    assert transition("disputed", "uphold", reviewer="boss", evaluator="qa") == "upheld"
    with pytest.raises(
        TransitionRefused, match="cannot dispute an evaluation that is acknowledged"
    ):
        transition("acknowledged", "dispute", actor_agent="a1", agent="a1", reason="x")
