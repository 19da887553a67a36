"""Contact-record files in the wrong encoding or with a stray quote are refused at their line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from hotline.core.errors import ValidationFailed
from hotline.metrics.importer import read_contact_records, shipped_mapping

HEADER = "contact_id,queue,arrived_at,answered_at,agent,outcome,note"


def test_a_latin1_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(
        (HEADER + "\nc1,q,2026-03-02T08:00:00,2026-03-02T08:00:09,a1,answered,ok\n").encode()
        + b"c2,q,2026-03-02T08:01:00,2026-03-02T08:01:09,a1,answered,Jos\xe9\xff\n"
    )
    with pytest.raises(ValidationFailed) as failed:
        read_contact_records(path)
    (problem,) = failed.value.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert "column 61 is not UTF-8" in problem.rule


def test_a_gbk_export_is_read_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv.gz"
    text = HEADER + "\nc1,q,2026-03-02T08:00:00,2026-03-02T08:00:09,a1,answered,张三回电\n"
    path.write_bytes(gzip.compress(text.encode("gbk")))
    result = read_contact_records(path)
    assert result.encoding == "gb18030"
    assert result.records[0].attributes == {"note": "张三回电"}
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_contact_records(utf8).encoding == "utf-8"


def test_an_unclosed_quote_does_not_swallow_the_next_rows(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        HEADER + "\n"
        'c1,q,2026-03-02T08:00:00,2026-03-02T08:00:09,a1,answered,"called back\n'
        "c2,q,2026-03-02T08:01:00,2026-03-02T08:01:09,a1,answered,x\n"
        "c3,q,2026-03-02T08:02:00,2026-03-02T08:02:09,a1,answered,x\n",
        encoding="utf-8",
    )
    # Old behaviour: one record (c1, its note holding c2 and c3); c2 and c3 silently lost.
    with pytest.raises(ValidationFailed) as failed:
        read_contact_records(path, skip_bad_rows=True)
    assert failed.value.problems[0].line == 2
    assert "never closed" in failed.value.problems[0].rule


def test_the_api_mapping_is_a_shipped_name_never_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret").write_text("name: x\nfields: {}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationFailed) as failed:
        shipped_mapping("secret")
    assert failed.value.problems[0].field == "mapping"
    assert shipped_mapping("anonymous_bank").name == "anonymous-bank-1999"
