"""Search text: Chinese bigrams, traditional→simplified, full-width, English words."""

from __future__ import annotations

import doctest

from hotline.kb import text
from hotline.kb.text import query_terms, segment, terms


def test_doctests_pass() -> None:
    assert doctest.testmod(text).failed == 0


def test_traditional_and_simplified_give_the_same_terms() -> None:
    assert terms("熱水器顯示錯誤") == terms("热水器显示错误")


def test_full_width_and_case_are_folded() -> None:
    assert terms("ＷＩＦＩ 連接") == ["wifi", "连接"]


def test_query_bigrams_are_inside_the_document_bigrams() -> None:
    document = set(terms("燃气热水器点火失败，显示E1代码的处理方法"))
    assert set(query_terms("热水器 点火失败")) <= document


def test_model_numbers_split_on_punctuation() -> None:
    assert segment("JSQ25-13 型号") == "jsq25 13 jsq2513 型号"
    assert terms("v2.1") == ["v2", "1", "v21"]
    assert terms("JSQ33-1WiFi连接") == ["jsq33", "1", "jsq331", "wifi", "连接"]
    assert terms("KFR-35GW") == ["kfr", "35gw", "kfr35gw"]
