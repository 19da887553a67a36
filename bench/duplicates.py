"""Benchmark: duplicate customers — Hotline's matcher against splink, on planted duplicates.

Generates customers with planted duplicates and hard negatives
(:class:`hotline.crm.synthetic.CustomerGenerator`: phone reformatted, homophone name,
traditional characters, rewritten address, shared e-mail, and all at once; family members
sharing a landline and address; namesakes in one city), then finds duplicates with

* ``hotline`` — :func:`hotline.crm.matching.find_duplicates` (blocking, hand-set evidence
  weights, union–find);
* ``splink`` — splink 5 on DuckDB, the proven Fellegi–Sunter library, given the *same*
  folded fields (simplified name, its pinyin, E.164 phones, e-mail, address digits and core)
  and the same blocking keys, with m/u probabilities trained without labels (random
  sampling for u, expectation–maximisation for m), clustered at match probability ≥ 0.9.

Both are scored pairwise against the planted truth (precision, recall) and timed. splink is
a dev dependency; without it the benchmark says so and stops. Prints one JSON line.

    .venv/bin/python bench/duplicates.py [--quick] [--people N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from pypinyin import lazy_pinyin

from hotline.crm import matching
from hotline.crm.matching import CustomerProfile, find_duplicates, pairwise_quality
from hotline.crm.phones import PhoneKind, try_normalize
from hotline.crm.synthetic import CustomerGenerator, SyntheticCustomer


def profile(record: SyntheticCustomer) -> CustomerProfile:
    """A generated record as the matcher sees it (phones normalised)."""
    numbers = [n for n in (try_normalize(p) for p in record.phones) if n is not None]
    return CustomerProfile(
        id=record.id,
        name=record.name,
        mobiles=tuple(n.e164 for n in numbers if n.kind is PhoneKind.MOBILE),
        landlines=tuple(n.e164 for n in numbers if n.kind is PhoneKind.LANDLINE),
        emails=tuple(record.emails),
        addresses=tuple(record.addresses),
    )


def splink_rows(people: list[CustomerProfile]) -> list[dict[str, Any]]:
    """One row per customer with the folded fields splink compares."""
    rows = []
    for p in people:
        name = matching.fold(p.name)
        address = p.addresses[0] if p.addresses else ""
        rows.append(
            {
                "unique_id": p.id,
                "name": name or None,
                "name_pinyin": " ".join(lazy_pinyin(name)) or None,
                "phones": list(p.mobiles + p.landlines),
                "mobile": p.mobiles[0] if p.mobiles else None,
                "landline": p.landlines[0] if p.landlines else None,
                "email": p.emails[0].lower() if p.emails else None,
                "address_digits": matching.address_digits(address) or None,
                "address_core": matching.address_core(address) or None,
            }
        )
    return rows


def run_splink(people: list[CustomerProfile], threshold: float) -> list[list[int]]:
    """Train splink without labels and return its clusters of two or more."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    frame = pd.DataFrame(splink_rows(people))
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("mobile"),
            block_on("landline"),
            block_on("email"),
            block_on("name", "address_digits"),
        ],
        comparisons=[
            cl.ExactMatch("name"),
            cl.ExactMatch("name_pinyin"),
            cl.ArrayIntersectAtSizes("phones", [1]),
            cl.ExactMatch("email"),
            cl.ExactMatch("address_digits"),
            cl.JaroWinklerAtThresholds("address_core", [0.9, 0.8]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(DuckDBAPI().register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("mobile"), block_on("name", "address_digits")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name", "address_digits")
    )
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    groups = clusters.groupby("cluster_id")["unique_id"].apply(list)
    return sorted(sorted(int(i) for i in g) for g in groups if len(g) > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 people")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--threshold", type=float, default=0.9, help="splink match probability")
    args = parser.parse_args()
    try:
        import splink  # noqa: F401
    except ImportError as exc:  # the peer is a dev dependency; say so rather than skip
        sys.exit(f"splink is needed for this benchmark: {exc}")
    people = args.people or (5_000 if args.quick else 50_000)
    records = list(CustomerGenerator(seed=args.seed, duplicate_share=0.15).generate(people))
    truth = {r.id: r.entity for r in records}
    profiles = [profile(r) for r in records]

    started = time.perf_counter()
    ours = find_duplicates(profiles)
    ours_s = time.perf_counter() - started
    ours_quality = pairwise_quality(ours.clusters, truth)

    started = time.perf_counter()
    theirs = run_splink(profiles, args.threshold)
    theirs_s = time.perf_counter() - started
    theirs_quality = pairwise_quality(theirs, truth)
    print(
        json.dumps(
            {
                "benchmark": "duplicates",
                "records": len(records),
                "planted_pairs": ours_quality.true_pairs,
                "seed": args.seed,
                "hotline": {
                    "precision": round(ours_quality.precision, 4),
                    "recall": round(ours_quality.recall, 4),
                    "seconds": round(ours_s, 2),
                },
                "splink": {
                    "precision": round(theirs_quality.precision, 4),
                    "recall": round(theirs_quality.recall, 4),
                    "seconds": round(theirs_s, 2),
                    "threshold": args.threshold,
                },
                "speed_ratio": round(theirs_s / ours_s, 2) if ours_s else None,
            }
        )
    )


if __name__ == "__main__":
    main()
