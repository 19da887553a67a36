"""The 1999 "Anonymous Bank" call-center logs as contact records.

Real call-by-call records of an Israeli bank's telephone center, January to December 1999,
published by the Technion's Service Enterprise Engineering lab (documentation by Ilan Guedj and
Avi Mandelbaum, 2000; analysed in Brown et al., "Statistical Analysis of a Telephone Call
Center: A Queueing-Science Perspective", JASA 100(469), 2005). Cite both when reporting
figures from it.

The files (``1999-01.txt.gz`` …) are read through the shipped mapping
``mappings/anonymous_bank.yaml``, whose comments record how each quirk is treated (PHANTOM
calls, calls served without queueing, negative IVR times, answered calls with no agent). This
module is the public entry for other domains (forecasting, simulation fitting).

Example::

    from hotline.metrics.bankdata import read_bank_month
    result = read_bank_month(Path("../shared/data/anonymous-bank/1999-01.txt.gz"))
    arrivals = [r.arrived_at for r in result.records]
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from hotline.metrics.importer import MAPPINGS_DIR, ExportMapping, ReadResult
from hotline.metrics.records import ContactRecord

#: The center's time zone: the logs' naive local times are read in it.
BANK_TIMEZONE = "Asia/Jerusalem"
#: Queues of the bank (service types), as the documentation names them.
BANK_QUEUES: dict[str, str] = {
    "PS": "regular activity",
    "PE": "regular activity in English",
    "IN": "internet consulting",
    "NE": "stock exchange activity",
    "NW": "prospective customers",
    "TT": "customers called back after leaving a message",
}


@lru_cache(maxsize=1)
def bank_mapping() -> ExportMapping:
    """Return the shipped mapping of the bank's log format.

    >>> bank_mapping().timezone
    'Asia/Jerusalem'
    """
    return ExportMapping.load(MAPPINGS_DIR / "anonymous_bank.yaml")


def read_bank_month(path: Path, *, skip_bad_rows: bool = True) -> ReadResult:
    """Read one month file (``1999-MM.txt.gz``) of the bank logs.

    PHANTOM calls are left out on purpose (``result.ignored``). Rows that still break a
    contact-record rule are skipped and listed in ``result.skipped`` unless
    ``skip_bad_rows`` is false, when the whole file is rejected instead.
    """
    return bank_mapping().read(path, skip_bad_rows=skip_bad_rows)


def bank_month_files(directory: Path) -> list[Path]:
    """Return the month files in ``directory``, in calendar order."""
    return sorted(directory.glob("1999-*.txt.gz"))


def read_bank_records(paths: Iterable[Path]) -> list[ContactRecord]:
    """Read several month files and return all their contact records, in file order."""
    records: list[ContactRecord] = []
    for path in paths:
        records.extend(read_bank_month(path).records)
    return records
