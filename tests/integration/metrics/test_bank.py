"""The 1999 bank logs: import a month into the database and check the monthly figures.

The expected figures are computed here independently, in plain Python over the raw file,
following the decisions written in ``metrics/mappings/anonymous_bank.yaml``. Data: Technion
SEE lab, "Anonymous Bank" call-center logs (Guedj & Mandelbaum 2000; Brown et al. 2005).
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hotline.metrics import service
from hotline.metrics.bankdata import read_bank_month

MONTH_FILE = (
    Path(__file__).resolve().parents[3].parent / "shared/data/anonymous-bank/1999-01.txt.gz"
)


def seconds(clock: str) -> int:
    h, m, s = (int(x) for x in clock.split(":"))
    return h * 3600 + m * 60 + s


def independent_monthly_figures(path: Path) -> dict[tuple[int, int], dict[str, float]]:
    """Offered, answered, abandon rate, ASA and AHT per calendar month of queue entry."""
    totals: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        for line in handle:
            row = dict(zip(header, line.rstrip("\n").split("\t"), strict=True))
            outcome = row["outcome"]
            if outcome == "PHANTOM":
                continue
            queued = row["q_start"] != "0:00:00"
            if outcome == "AGENT" and not queued and row["ser_start"] == "0:00:00":
                continue  # answered without any answer time: rejected by the importer
            if outcome == "HANG" and not queued:
                continue  # hung up in the IVR: never offered to the queue
            day = date(1900 + int(row["date"][:2]), int(row["date"][2:4]), int(row["date"][4:6]))
            start = row["q_start"] if queued else row["ser_start"]
            if seconds(start) < seconds(row["vru_entry"]) - 3600:
                day += timedelta(days=1)  # the call crossed midnight before queueing
            month = totals[(day.year, day.month)]
            month["offered"] += 1
            wait = int(row["q_time"]) if queued else 0
            if outcome == "AGENT":
                month["answered"] += 1
                month["wait"] += wait
                month["handle"] += int(row["ser_time"])
            else:
                month["abandoned"] += 1
                month["short"] += wait < 5
    out = {}
    for key, m in totals.items():
        out[key] = {
            "offered": m["offered"],
            "answered": m["answered"],
            "abandon_rate": (m["abandoned"] - m["short"]) / (m["offered"] - m["short"]),
            "asa_s": m["wait"] / m["answered"],
            "aht_s": m["handle"] / m["answered"],
        }
    return out


@pytest.mark.skipif(not MONTH_FILE.exists(), reason="shared bank data not present")
def test_imported_month_gives_the_independently_computed_figures(db_session: Session) -> None:
    result = read_bank_month(MONTH_FILE)
    assert result.ignored > 0 and result.skipped  # PHANTOMs left out, bad rows listed
    stored = service.import_records(session=db_session, records=result.records, source="bank-01")
    assert stored == len(result.records)

    report = service.kpi_report(
        session=db_session, interval="month", by=(), timezone="Asia/Jerusalem", source="bank-01"
    )
    got = {(row["interval_start"][:4], row["interval_start"][5:7]): row for row in report.rows()}
    expected = independent_monthly_figures(MONTH_FILE)
    assert {(f"{y}", f"{m:02d}") for y, m in expected} == set(got)
    for (year, month), figures in expected.items():
        row = got[(f"{year}", f"{month:02d}")]
        assert row["offered"] == figures["offered"]
        assert row["answered"] == figures["answered"]
        assert row["abandon_rate"] == pytest.approx(figures["abandon_rate"], rel=1e-12)
        assert row["asa_s"] == pytest.approx(figures["asa_s"], rel=1e-12)
        assert row["aht_s"] == pytest.approx(figures["aht_s"], rel=1e-12)
    january = got[("1999", "01")]
    assert january["offered"] > 29_000 and 0.05 < january["abandon_rate"] < 0.15


def test_importing_the_same_source_twice_is_refused(db_session: Session) -> None:
    from hotline.core.errors import Conflict
    from hotline.metrics.records import ContactRecord

    record = ContactRecord(contact_id="c1", arrived_at=0.0, outcome="self_served")
    service.import_records(session=db_session, records=[record], source="twice")
    with pytest.raises(Conflict):
        service.import_records(session=db_session, records=[record], source="twice")
    service.import_records(session=db_session, records=[record], source="twice", replace=True)
    assert service.sources(session=db_session)["twice"] == 1
