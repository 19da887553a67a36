"""The examples in the wfm docstrings run and give what they show."""

from __future__ import annotations

import doctest

import pytest

from hotline.wfm import adherence, erlang, forecast, intraday, schedule


@pytest.mark.parametrize("module", [erlang, forecast, schedule, adherence, intraday])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0
