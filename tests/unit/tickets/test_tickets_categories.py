"""Categories and custom fields checked against the configured schema, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.config.center import CustomField, TicketCategory, TicketTypeCategories
from hotline.core.errors import ValidationFailed
from hotline.tickets.categories import check_ticket_fields

SCHEMA = [
    TicketTypeCategories(
        type="repair",
        categories=[
            TicketCategory(
                id="air_conditioner",
                fields=[
                    CustomField(name="model_number", required=True),
                    CustomField(name="purchase_date", type="date"),
                    CustomField(name="horsepower", type="number"),
                    CustomField(name="fault", type="choice", choices=["不制冷", "漏水"]),
                ],
            ),
            TicketCategory(id="refrigerator"),
        ],
    )
]


def problems(**ticket: Any) -> dict[str | None, str]:
    with pytest.raises(ValidationFailed) as failed:
        check_ticket_fields(SCHEMA, **ticket)
    return {p.field: p.rule for p in failed.value.problems}


def test_values_are_normalised() -> None:
    cleaned = check_ticket_fields(
        SCHEMA,
        ticket_type="repair",
        category="air_conditioner",
        custom_fields={
            "model_number": "KFR-35GW",
            "purchase_date": "2024-07-01",
            "horsepower": "1.5",
            "fault": "漏水",
        },
    )
    assert cleaned == {
        "model_number": "KFR-35GW",
        "purchase_date": "2024-07-01",
        "horsepower": 1.5,
        "fault": "漏水",
    }
    two = check_ticket_fields(
        SCHEMA,
        ticket_type="repair",
        category="air_conditioner",
        custom_fields={"model_number": "K", "horsepower": "2", "purchase_date": ""},
    )
    assert two == {"model_number": "K", "horsepower": 2}  # an empty value is no value


def test_each_wrong_field_is_named() -> None:
    found = problems(
        ticket_type="repair",
        category="air_conditioner",
        custom_fields={
            "purchase_date": "2024/07/01",
            "horsepower": "big",
            "fault": "不加热",
            "colour": "white",
        },
    )
    assert found == {
        "custom_fields.model_number": "is required for air_conditioner tickets",
        "custom_fields.purchase_date": "must be a date written YYYY-MM-DD, not '2024/07/01'",
        "custom_fields.horsepower": "must be a number, not 'big'",
        "custom_fields.fault": "must be one of: 不制冷, 漏水 (not '不加热')",
        "custom_fields.colour": (
            "is not a field of air_conditioner tickets "
            "(fields: model_number, purchase_date, horsepower, fault)"
        ),
    }
    assert problems(
        ticket_type="repair", category="air_conditioner", custom_fields={"model_number": 7}
    ) == {"custom_fields.model_number": "must be text, not 7"}
    assert problems(
        ticket_type="repair",
        category="air_conditioner",
        custom_fields={"model_number": "K", "horsepower": True},
    ) == {"custom_fields.horsepower": "must be a number"}


def test_categories_of_configured_types_only() -> None:
    assert problems(ticket_type="repair", category="tv", custom_fields={}) == {
        "category": "unknown repair category 'tv' (configured: air_conditioner, refrigerator)"
    }
    # a configured type without a category yet: no fields to fill, none allowed
    assert check_ticket_fields(SCHEMA, ticket_type="repair", category="", custom_fields={}) == {}
    assert problems(ticket_type="repair", category="", custom_fields={"x": "1"}) == {
        "custom_fields.x": "is not a field of tickets without a category (fields: none)"
    }
    # types the center did not configure take anything
    free = {"anything": 1}
    assert (
        check_ticket_fields(SCHEMA, ticket_type="inquiry", category="价格", custom_fields=free)
        == free
    )
