"""List files: located problems, nothing half-checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.campaigns import lists
from hotline.campaigns.lists import check_list_csv
from hotline.core.errors import ValidationFailed


def normalize(raw: str) -> str | None:
    digits = raw.replace("-", "").replace(" ", "")
    return "+86" + digits if digits.isdigit() and len(digits) == 11 else None


def test_a_good_file_gives_its_rows_with_extra_columns_as_data() -> None:
    text = (
        "phone,name,time_zone,callback_at,model\n"
        "138-1234-5678,Ada,Asia/Urumqi,2026-12-03T10:00:00+08:00,KFR-35\n"
        "13912345678,Bo,,,\n"
    )
    rows = check_list_csv(text=text, file="list.csv", normalize=normalize)
    assert [(r.line, r.phone, r.name) for r in rows] == [
        (2, "+8613812345678", "Ada"),
        (3, "+8613912345678", "Bo"),
    ]
    assert rows[0].time_zone == "Asia/Urumqi" and rows[1].time_zone is None
    assert rows[0].callback_at == datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    assert rows[0].callback_at.utcoffset() == timedelta(hours=8)
    assert rows[0].data == {"model": "KFR-35"}
    assert rows[1].data == {}


def test_every_bad_row_is_located_by_file_line_and_field() -> None:
    text = (
        "phone,name,time_zone,customer_id,callback_at\n"
        "13812345678,Ada,,,\n"
        "12,Bo,,,\n"
        "138 1234 5678,Cy,,,\n"
        "13712345678,Di,Mars/Base,0,tomorrow\n"
        "13612345678,Ed,,,2026-12-03T10:00:00\n"
        ",Fu,,,\n"
    )
    with pytest.raises(ValidationFailed) as failed:
        check_list_csv(text=text, file="list.csv", normalize=normalize)
    located = [(p.file, p.line, p.field) for p in failed.value.problems]
    assert located == [
        ("list.csv", 3, "phone"),
        ("list.csv", 4, "phone"),
        ("list.csv", 5, "time_zone"),
        ("list.csv", 5, "customer_id"),
        ("list.csv", 5, "callback_at"),
        ("list.csv", 6, "callback_at"),
        ("list.csv", 7, "phone"),
    ]
    assert "repeats line 2" in failed.value.problems[1].rule


def test_a_file_without_a_phone_column_or_rows_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="missing column 'phone'"):
        check_list_csv(text="name\nAda\n", file="l.csv", normalize=normalize)
    with pytest.raises(ValidationFailed, match="no rows"):
        check_list_csv(text="phone\n", file="l.csv", normalize=normalize)
    with pytest.raises(ValidationFailed, match="more cells"):
        check_list_csv(text="phone\n13812345678,x\n", file="l.csv", normalize=normalize)


def test_a_list_longer_than_the_limit_is_refused_at_its_first_extra_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lists, "MAX_ROWS", 2)
    text = "phone\n13812345678\n13912345678\n13712345678\n"
    with pytest.raises(ValidationFailed) as failed:
        check_list_csv(text=text, file="big.csv", normalize=normalize)
    [problem] = failed.value.problems
    assert (problem.line, problem.rule) == (4, "a list holds at most 2 rows")
