"""Reading contact records: the interchange CSV, located errors, mapping files."""

from __future__ import annotations

import doctest
import gzip
from pathlib import Path

import pytest

from hotline.core.errors import ValidationFailed
from hotline.metrics import bankdata, definitions, importer, records
from hotline.metrics.importer import ExportMapping, read_contact_records

HEADER = "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome,note"


def write(tmp_path: Path, *lines: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("module", [importer, records, definitions, bankdata])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.failed == 0


def test_reads_a_good_file_and_keeps_unknown_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "c1,repair,2026-03-02T08:00:00,2026-03-02T08:00:05,2026-03-02T08:00:25,,a1,100,answered,vip",
        "c2,repair,2026-03-02T08:01:00,2026-03-02T08:01:02,,2026-03-02T08:01:40,,,abandoned,",
    )
    result = read_contact_records(path, tz="Asia/Shanghai")
    first, second = result.records
    assert first.wait_s == 20.0 and first.talk_s == 100.0 and first.agent == "a1"
    assert first.attributes == {"note": "vip"}
    assert second.wait_s == 38.0 and second.outcome == "abandoned"
    # naive timestamps are read in the center's time zone (UTC+8 here)
    assert first.arrived_at == 1772409600.0


def test_bad_rows_reject_the_whole_file_with_locations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "c1,repair,2026-03-02T08:00:00,2026-03-02T08:00:05,2026-03-02T08:00:25,,a1,100,answered,",
        "c2,repair,yesterday,,,,,,abandoned,",
        "c3,repair,2026-03-02T08:00:00,2026-03-02T08:00:05,,,,,answered,",
        "c1,repair,2026-03-02T08:00:00,,,,,,self_served,",
        "c5,repair,2026-03-02T08:00:00,,,,,,lost,",
    )
    with pytest.raises(ValidationFailed) as caught:
        read_contact_records(path)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert (3, "arrived_at") in found
    assert (4, "answered_at") in found and (4, "agent") in found
    assert (5, "contact_id") in found
    assert (6, "outcome") in found
    assert all(p.file == str(path) for p in caught.value.problems)
    assert "contacts.csv:3: arrived_at: 'yesterday' is not an ISO 8601 timestamp" in str(
        caught.value
    )


def test_skip_bad_rows_lists_every_skipped_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "c1,repair,2026-03-02T08:00:00,2026-03-02T08:00:05,2026-03-02T08:00:25,,a1,100,answered,",
        "c2,repair,yesterday,,,,,,abandoned,",
        "c3,repair,2026-03-02T08:00:00,2026-03-02T07:00:05,,2026-03-02T08:00:09,,,abandoned,",
    )
    result = read_contact_records(path, skip_bad_rows=True)
    assert [r.contact_id for r in result.records] == ["c1"]
    assert result.skipped_lines == [3, 4]
    assert result.rows_read == 3


def test_missing_required_column_rejects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "contact_id,queue\nc1,repair")
    with pytest.raises(ValidationFailed) as caught:
        read_contact_records(path, skip_bad_rows=True)
    assert {p.field for p in caught.value.problems} == {"arrived_at", "outcome"}


def test_mapping_reads_another_acd_export(tmp_path: Path) -> None:
    mapping = ExportMapping.from_dict(
        {
            "name": "acme",
            "delimiter": ";",
            "timezone": "Europe/Paris",
            "fields": {
                "contact_id": "CallID",
                "queue": "Split",
                "arrived_at": {"timestamp": "Start", "format": "%d/%m/%Y %H:%M:%S"},
                "queued_at": {"timestamp": "Start", "format": "%d/%m/%Y %H:%M:%S"},
                "answered_at": {
                    "timestamp": "Connect",
                    "format": "%d/%m/%Y %H:%M:%S",
                    "when": {"Result": "ANS"},
                },
                "agent": {"column": "Agent", "when": {"Result": "ANS"}},
                "talk_s": {"column": "Talk", "default": 0},
                "outcome": {"column": "Result", "map": {"ANS": "answered", "ABN": "abandoned"}},
                "abandoned_at": {
                    "timestamp": "End",
                    "format": "%d/%m/%Y %H:%M:%S",
                    "when": {"Result": "ABN"},
                },
            },
        }
    )
    path = write(
        tmp_path,
        "CallID;Split;Start;Connect;End;Agent;Talk;Result",
        "1;sales;02/03/2026 09:00:00;02/03/2026 09:00:12;02/03/2026 09:03:00;bob;168;ANS",
        "2;sales;02/03/2026 09:01:00;;02/03/2026 09:01:30;;;ABN",
        "3;sales;02/03/2026 09:02:00;;;;;XFR",
    )
    result = mapping.read(path, skip_bad_rows=True)
    assert [r.contact_id for r in result.records] == ["1", "2"]
    assert result.records[0].wait_s == 12.0 and result.records[0].agent == "bob"
    assert result.records[1].wait_s == 30.0
    assert result.skipped[0].line == 4 and result.skipped[0].field == "outcome"


def test_a_broken_mapping_is_reported_with_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ExportMapping.from_dict(
            {
                "fields": {
                    "contact_id": "id",
                    "colour": "c",
                    "arrived_at": {"column": "a", "value": 1},
                }
            }
        )
    fields = {p.field for p in caught.value.problems}
    assert {"fields.colour", "fields.arrived_at", "fields"} <= fields


BANK_HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def test_bank_mapping_treats_each_quirk_as_documented(tmp_path: Path) -> None:
    rows = [
        BANK_HEADER,
        # queued then served: wait is the file's q_time (q_exit - q_start)
        "AA0101\t1\t27997683\t2\tPS\t990101\t6:55:20\t6:55:26\t6\t6:55:26\t6:55:43\t17\tAGENT"
        "\t6:55:42\t6:56:37\t54\tMICHAL",
        # served without queueing: offered with a zero wait
        "AA0101\t2\t0\t0\tNW\t990101\t7:41:16\t7:41:26\t10\t0:00:00\t0:00:00\t0\tAGENT"
        "\t7:41:25\t7:44:53\t208\tBASCH",
        # hung up in the queue, crossing midnight
        "AA0101\t3\t9664491\t2\tPS\t990101\t23:59:31\t23:59:36\t5\t23:59:36\t0:02:09\t153\tHANG"
        "\t0:00:00\t0:00:00\t0\tNO_SERVER",
        # hung up in the IVR: not offered
        "AA0101\t4\t0\t0\tPS\t990101\t0:34:12\t0:34:23\t11\t0:00:00\t0:00:00\t0\tHANG"
        "\t0:00:00\t0:00:00\t0\tNO_SERVER",
        # phantom: ignored
        "AA0101\t5\t0\t0\tPS\t990101\t0:35:12\t0:35:23\t11\t0:00:00\t0:00:00\t0\tPHANTOM"
        "\t0:00:00\t0:00:00\t0\tNO_SERVER",
        # negative vru_time: arrival moved back to the earliest timestamp
        "AA0101\t6\t48820351\t2\tPS\t990128\t15:46:49\t15:45:56\t-53\t15:45:56\t15:46:59\t63"
        "\tAGENT\t15:46:57\t15:53:31\t394\tNO_SERVER",
        # answered with no service times: skipped and listed
        "AA0102\t7\t0\t0\tPS\t990104\t13:39:21\t13:39:30\t9\t0:00:00\t0:00:00\t0\tAGENT"
        "\t0:00:00\t0:00:00\t0\tGILI",
    ]
    path = tmp_path / "1999-01.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
    result = bankdata.read_bank_month(path)
    by_id = {r.contact_id: r for r in result.records}
    assert result.ignored == 1 and result.skipped_lines == [8]
    served = by_id["AA0101-1"]
    assert served.wait_s == 17 and served.queue == "PS" and served.talk_s == 54
    assert served.priority == 2 and served.customer == "27997683"
    direct = by_id["AA0101-2"]
    assert direct.wait_s == 0 and direct.outcome == "answered" and direct.customer is None
    hung = by_id["AA0101-3"]
    assert hung.outcome == "abandoned" and hung.wait_s == 153
    assert by_id["AA0101-4"].outcome == "ivr_hangup" and by_id["AA0101-4"].queued_at is None
    skewed = by_id["AA0101-6"]
    assert skewed.arrived_at == skewed.queued_at and skewed.agent == "NO_SERVER"
    # 1999-01-01 06:55:20 in Israel (UTC+2)
    assert served.arrived_at == 915166520.0
    with pytest.raises(ValidationFailed):
        bankdata.read_bank_month(path, skip_bad_rows=False)
