"""Duplicate customers: the matching rules, and precision/recall on planted duplicates."""

from __future__ import annotations

import doctest

import pytest

from hotline.crm import matching, synthetic
from hotline.crm.matching import CustomerProfile, find_duplicates, pairwise_quality, score_pair
from hotline.crm.phones import PhoneKind, try_normalize


def test_doctests_pass() -> None:
    assert doctest.testmod(matching).failed == 0
    assert doctest.testmod(synthetic).failed == 0


def profile(record: synthetic.SyntheticCustomer) -> CustomerProfile:
    numbers = [n for n in (try_normalize(p) for p in record.phones) if n is not None]
    return CustomerProfile(
        id=record.id,
        name=record.name,
        mobiles=tuple(n.e164 for n in numbers if n.kind is PhoneKind.MOBILE),
        landlines=tuple(n.e164 for n in numbers if n.kind is PhoneKind.LANDLINE),
        emails=tuple(record.emails),
        addresses=tuple(record.addresses),
    )


def test_family_members_sharing_a_landline_are_not_merged() -> None:
    home = ("+861065521234",)
    address = ("北京市朝阳区建国路88号1201室",)
    father = CustomerProfile(1, "张伟", landlines=home, addresses=address)
    daughter = CustomerProfile(2, "张敏", landlines=home, addresses=address)
    assert score_pair(father, daughter).score < matching.THRESHOLD


def test_same_person_new_phone_traditional_name_same_address() -> None:
    old = CustomerProfile(
        1, "陈静", mobiles=("+8613800000001",), addresses=("上海市徐汇区中山路12号303室",)
    )
    new = CustomerProfile(
        2, "陳靜", mobiles=("+8618600000002",), addresses=("徐汇区中山路12號303",)
    )
    assert score_pair(old, new).score >= matching.THRESHOLD
    assert find_duplicates([old, new]).clusters == [[1, 2]]


def test_namesakes_in_one_city_stay_apart() -> None:
    a = CustomerProfile(
        1, "王芳", mobiles=("+8613800000001",), addresses=("北京市海淀区人民路5号101室",)
    )
    b = CustomerProfile(
        2, "王芳", mobiles=("+8613900000002",), addresses=("北京市海淀区人民路7号101室",)
    )
    assert find_duplicates([a, b]).clusters == []


def test_oversized_blocks_are_skipped_and_reported() -> None:
    switchboard = ("+864008108888",)
    people = [CustomerProfile(i, f"客户{i}", landlines=switchboard) for i in range(1, 12)]
    result = find_duplicates(people, max_block=10)
    assert result.skipped_blocks == ["p:+864008108888"]
    assert result.compared == 0


def test_precision_and_recall_on_planted_duplicates(capsys: pytest.CaptureFixture[str]) -> None:
    records = list(synthetic.CustomerGenerator(seed=11, duplicate_share=0.15).generate(3000))
    result = find_duplicates(profile(r) for r in records)
    quality = pairwise_quality(result.clusters, {r.id: r.entity for r in records})
    with capsys.disabled():
        print(
            f"\nduplicates: {len(records)} records, {quality.true_pairs} planted pairs, "
            f"precision {quality.precision:.3f}, recall {quality.recall:.3f}, "
            f"duplication rate {result.duplication_rate(len(records)):.3f}"
        )
    assert quality.precision >= 0.98
    # The planted "homophone + new phone + rewritten address" variant (1 in 6) is meant to
    # be hard; every other variant should be found.
    assert 0.75 <= quality.recall < 1.0
