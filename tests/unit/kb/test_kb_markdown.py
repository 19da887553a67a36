"""Articles in Markdown rendered safe: formatting kept, raw HTML and scripts shown as text,
dangerous links dropped, only the knowledge base's own images shown."""

from __future__ import annotations

import doctest

from hotline.kb import markdown
from hotline.kb.markdown import image_source, render
from hotline.kb.text import normalised_query


def test_doctests_pass() -> None:
    assert doctest.testmod(markdown).failed == 0


def test_formatting_is_rendered() -> None:
    html = render(
        "# 热水器E4\n\n1. **断电**\n2. 清洗滤网\n\n| 代码 | 含义 |\n|---|---|\n| E4 | 过热 |"
    )
    assert "<h1>热水器E4</h1>" in html
    assert "<li><strong>断电</strong></li>" in html
    assert "<td>E4</td>" in html


def test_raw_html_and_script_links_never_become_markup() -> None:
    html = render(
        '<img src=x onerror="alert(1)">\n\n<script>alert(2)</script>\n\n[点我](javascript:alert(3))'
    )
    assert "<img" not in html and "<script" not in html and "<a" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_only_own_images_are_shown() -> None:
    own = image_source(42)
    html = render(
        f"![控制面板]({own}) ![外链](https://example.com/x.png) ![数据](data:image/png;base64,AA==)"
    )
    assert html.count("<img") == 1 and f'src="{own}"' in html
    assert "外链" in html and "数据" in html  # the others keep their alternative text
    assert "<img" not in render(f"![跳出]({own}/../../users)")


def test_a_line_break_stays_a_line_break() -> None:
    assert render("第一步\n第二步") == "<p>第一步<br />\n第二步</p>\n"


def test_queries_are_normalised_for_the_gap_report() -> None:
    assert normalised_query("熱水器 E4？") == normalised_query("  热水器   e4 ") == "热水器 e4"
    assert normalised_query("!!!") == ""
    assert len(normalised_query("长" * 500)) == 200
