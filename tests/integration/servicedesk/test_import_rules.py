"""Customer and product imports obey the API's field rules and never lose rows to a quote."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.core.errors import ValidationFailed
from hotline.crm import service as crm
from hotline.store.models.crm import Customer


def _problems(session: Session, text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ValidationFailed) as failed:
        crm.import_customers_csv(session, text=text, file="c.csv")
    return [(p.line, p.field, p.rule) for p in failed.value.problems]


def test_vip_level_out_of_the_api_range_is_refused_with_its_line(db_session: Session) -> None:
    # The API takes VIP levels 0-5; the import used to store any whole number.
    problems = _problems(db_session, "name,phones,vip_level\n张三,13800138000,3\n李四,,99\n")
    assert problems == [(3, "vip_level", "must be from 0 to 5, not 99")]
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 0


def test_overlong_fields_are_refused_as_the_api_would(db_session: Session) -> None:
    text = f"name,site,address\n{'名' * 129},s,a\nok,{'s' * 65},{'a' * 257}\n"
    problems = _problems(db_session, text)
    assert (2, "name", "at most 128 characters, not 129") in problems
    assert (3, "site", "at most 64 characters, not 65") in problems
    assert (3, "addresses", "at most 256 characters, not 257") in problems


def test_an_unclosed_quote_is_refused_at_the_line_where_it_opened(db_session: Session) -> None:
    # The quote on line 3 is closed by the one on line 5: lines 4 and 5 would be one cell.
    text = 'name,phones\nAda,13800138000\n"Bob,13800138001\nCy,13800138002\n"Dee",13800138003\n'
    problems = _problems(db_session, text)
    assert problems[0][0] == 3 and "quote" in problems[0][2]
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_product_model_longer_than_the_column_is_a_located_problem(db_session: Session) -> None:
    crm.import_customers_csv(db_session, text="name,phones\nAda,13800138000\n", file="c.csv")
    with pytest.raises(ValidationFailed) as failed:
        crm.import_products_csv(
            db_session, text=f"customer_phone,model\n13800138000,{'m' * 65}\n", file="p.csv"
        )
    problem = failed.value.problems[0]
    assert (problem.line, problem.field) == (2, "model")
