"""What the knowledge pages show: highlighted matches, snippets, and version comparisons."""

from __future__ import annotations

import doctest

from hotline.kb import marks
from hotline.kb.marks import Line, compare, matches, snippet


def test_doctests_pass() -> None:
    assert doctest.testmod(marks).failed == 0


def test_marks_are_offsets_into_the_text_as_written() -> None:
    title = "熱水器顯示E4故障怎么办"
    # The query is simplified, the title traditional: the marks still fall on the title's own
    # characters, because search folds both the same way; touching marks join.
    assert [title[s:e] for s, e in matches(title, "热水器 显示 e4")] == ["熱水器顯示E4"]


def test_full_width_latin_is_marked() -> None:
    title = "ＷＩＦＩ连接失败"
    assert [title[s:e] for s, e in matches(title, "wifi")] == ["ＷＩＦＩ"]


def test_a_latin_term_is_marked_only_as_a_whole_word() -> None:
    # "reset" in "preset" is no match for the engines (they index whole words), so no mark.
    assert matches("Use the preset, then reset", "reset") == [(21, 26)]


def test_overlapping_bigrams_merge_into_one_mark() -> None:
    assert matches("空调不制冷", "空调不制冷") == [(0, 5)]


def test_markup_in_the_text_is_only_text() -> None:
    # The marks are offsets; the page builds text nodes from them, so a tag stays text.
    body = "<script>alert(1)</script> 滤网"
    assert [body[s:e] for s, e in matches(body, "滤网")] == ["滤网"]


def test_no_match_gives_the_opening_of_the_body() -> None:
    cut = snippet("abc " * 100, "空调", length=20)
    assert cut.text == ("abc " * 5) and cut.marks == [] and not cut.cut_before and cut.cut_after


def test_a_snippet_starts_at_the_line_of_its_first_match() -> None:
    body = "第一步：关闭电源\n第二步：清洗滤网"
    cut = snippet(body, "滤网", length=40)
    assert cut.text == "第二步：清洗滤网" and cut.cut_before and not cut.cut_after
    assert [cut.text[s:e] for s, e in cut.marks] == ["滤网"]


def test_compare_lists_kept_removed_and_added_lines_in_reading_order() -> None:
    older = "关闭电源\n清洗滤网\n开机测试"
    newer = "关闭电源\n清洗滤网和冷凝器\n检查冷媒压力\n开机测试"
    assert compare(older, newer) == [
        Line("same", "关闭电源"),
        Line("removed", "清洗滤网"),
        Line("added", "清洗滤网和冷凝器"),
        Line("added", "检查冷媒压力"),
        Line("same", "开机测试"),
    ]
    assert compare(newer, newer) == [Line("same", line) for line in newer.splitlines()]
