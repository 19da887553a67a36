"""Safe loading: hostile YAML, JSON and CSV are refused quickly, with file, line and rule."""

from __future__ import annotations

import time

import pytest

from hotline.config.validate import check_text
from hotline.core.documents import (
    MAX_DEPTH,
    DocumentRefused,
    csv_records,
    decode_text,
    load_json,
    load_yaml,
)


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: ten aliases per level, 10**levels nodes when expanded."""
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly_with_its_line() -> None:
    text = billion_laughs()
    started = time.process_time()
    with pytest.raises(DocumentRefused) as refused:
        load_yaml(text, source="bomb.yaml")
    assert time.process_time() - started < 1.0
    problem = refused.value.problems[0]
    assert problem.file == "bomb.yaml" and problem.line is not None
    assert "aliases expand to more than" in problem.rule


def test_the_center_validator_refuses_the_alias_bomb_as_a_located_problem() -> None:
    # The old validator walked the expanded tree: 33 s of CPU and 4 GB for 17 KB.
    text = "center: {name: Demo}\n" + billion_laughs()
    started = time.process_time()
    result = check_text(text, file="center.yaml")
    assert time.process_time() - started < 1.0
    assert not result.ok
    assert "aliases expand" in result.errors[0].rule
    assert result.errors[0].file == "center.yaml"


def test_a_few_aliases_are_still_fine() -> None:
    data = load_yaml("base: &b {skills: [repair]}\nother: *b\n", source="c.yaml")
    assert data["other"] == {"skills": ["repair"]}


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    text = "a: " + "[" * 5000 + "]" * 5000
    with pytest.raises(DocumentRefused, match=f"nested deeper than {MAX_DEPTH}"):
        load_yaml(text, source="deep.yaml")
    result = check_text("center: {name: x}\nq: " + "[" * 5000 + "]" * 5000, file="c.yaml")
    assert "nested deeper" in result.errors[0].rule and result.errors[0].line == 2
    with pytest.raises(DocumentRefused, match="nested deeper"):
        load_json("[" * 100_000 + "]" * 100_000, source="deep.json")


def test_size_is_bounded() -> None:
    with pytest.raises(DocumentRefused, match="larger than"):
        load_yaml("a: 1\n" * 4_000_000, source="big.yaml")


def test_non_utf8_names_line_and_column_and_gbk_is_detected() -> None:
    decoded = decode_text("名称,电话\n张三,13800138000\n".encode("gbk"), source="c.csv")
    assert decoded.encoding == "gb18030" and decoded.text.startswith("名称")
    with pytest.raises(DocumentRefused) as refused:
        decode_text(b"name\nok\nbad \xff\xfe\xff\n", source="c.csv")
    assert refused.value.problems[0].line == 3
    assert "column 5" in refused.value.problems[0].rule


def test_an_unclosed_quote_at_the_end_is_refused_at_its_line() -> None:
    text = 'name,phones\nAda,1\n"Bob,2\nCy,3\nDee,4\n'
    _, rows = csv_records(text, source="c.csv")
    with pytest.raises(DocumentRefused) as refused:
        list(rows)
    assert refused.value.problems[0].line == 3
    assert "never closed" in refused.value.problems[0].rule


def test_an_unclosed_quote_closed_by_a_later_one_does_not_swallow_rows() -> None:
    # The quote opened on line 3 is "closed" by the one on line 6: rows 4-5 would vanish.
    text = 'name,phones\nAda,1\n"Bob,2\nCy,3\nDee,4\n"Eve",5\n'
    _, rows = csv_records(text, source="c.csv")
    with pytest.raises(DocumentRefused) as refused:
        list(rows)
    assert refused.value.problems[0].line == 3


def test_a_real_multiline_cell_is_kept_with_the_line_it_starts_on() -> None:
    text = 'name,address\nAda,"1 Main St\nFloor 2"\nBob,x\n'
    _, rows = csv_records(text, source="c.csv")
    assert list(rows) == [
        (2, {"name": "Ada", "address": "1 Main St\nFloor 2"}),
        (4, {"name": "Bob", "address": "x"}),
    ]
