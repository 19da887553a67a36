"""Ticket categories and custom fields, checked against the center configuration's schema.

The center configuration's optional ``ticket_categories`` section lists, per ticket type, the
categories a ticket may take and the custom fields each category carries (text, number, date
or choice; required or not). A ticket of a type listed there must name one of its categories
(or none yet) and may only carry that category's fields; required fields must be filled.
Types not listed are free: any category text, any fields (a center that configured nothing
works as before). Values are normalised: numbers become numbers, dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hotline.config.center import CustomField, TicketTypeCategories
from hotline.core.errors import Problem, ValidationFailed


def _value(custom: CustomField, raw: Any) -> tuple[Any, str | None]:
    """``raw`` normalised for ``custom``, or the problem with it."""
    if custom.type == "number":
        if isinstance(raw, bool):
            return None, "must be a number"
        if isinstance(raw, int | float):
            return raw, None
        try:
            number = float(str(raw).strip())
        except ValueError:
            return None, f"must be a number, not {raw!r}"
        return int(number) if number.is_integer() else number, None
    if custom.type == "date":
        if isinstance(raw, date):
            return raw.isoformat(), None
        try:
            return date.fromisoformat(str(raw).strip()).isoformat(), None
        except ValueError:
            return None, f"must be a date written YYYY-MM-DD, not {raw!r}"
    if not isinstance(raw, str):
        return None, f"must be text, not {raw!r}"
    if custom.type == "choice" and raw not in custom.choices:
        return None, f"must be one of: {', '.join(custom.choices)} (not {raw!r})"
    return raw, None


def check_ticket_fields(
    schema: Sequence[TicketTypeCategories],
    *,
    ticket_type: str,
    category: str,
    custom_fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Return ``custom_fields`` normalised, or raise :class:`ValidationFailed` naming each field.

    >>> from hotline.config.center import CustomField, TicketCategory, TicketTypeCategories
    >>> schema = [TicketTypeCategories(type="repair", categories=[TicketCategory(
    ...     id="water_heater", fields=[CustomField(name="model", required=True),
    ...                                CustomField(name="purchase_date", type="date")])])]
    >>> check_ticket_fields(schema, ticket_type="repair", category="water_heater",
    ...                     custom_fields={"model": "JSQ25", "purchase_date": "2025-03-08"})
    {'model': 'JSQ25', 'purchase_date': '2025-03-08'}
    >>> try:
    ...     check_ticket_fields(schema, ticket_type="repair", category="water_heater",
    ...                         custom_fields={"purchase_date": "08/03/2025"})
    ... except ValidationFailed as failed:
    ...     print([problem.field for problem in failed.problems])
    ['custom_fields.model', 'custom_fields.purchase_date']
    """
    section = next((s for s in schema if s.type == ticket_type), None)
    if section is None:
        return dict(custom_fields)
    problems: list[Problem] = []
    known = {c.id: c for c in section.categories}
    chosen = known.get(category) if category else None
    if category and chosen is None:
        choices = ", ".join(known) or "none configured"
        problems.append(
            Problem(
                f"unknown {ticket_type} category {category!r} (configured: {choices})",
                field="category",
            )
        )
    defined = {f.name: f for f in chosen.fields} if chosen else {}
    cleaned: dict[str, Any] = {}
    for name, raw in custom_fields.items():
        custom = defined.get(name)
        if custom is None:
            if chosen is not None or not category:
                allowed = ", ".join(defined) or "none"
                where = f"{category} tickets" if chosen else "tickets without a category"
                problems.append(
                    Problem(
                        f"is not a field of {where} (fields: {allowed})",
                        field=f"custom_fields.{name}",
                    )
                )
            continue
        if raw is None or raw == "":
            continue
        value, problem = _value(custom, raw)
        if problem:
            problems.append(Problem(problem, field=f"custom_fields.{name}"))
        else:
            cleaned[name] = value
    for custom in defined.values():
        if (
            custom.required
            and custom.name not in cleaned
            and not any(p.field == f"custom_fields.{custom.name}" for p in problems)
        ):
            problems.append(
                Problem(f"is required for {category} tickets", field=f"custom_fields.{custom.name}")
            )
    if problems:
        problems.sort(key=lambda p: p.field or "")
        raise ValidationFailed(problems)
    return cleaned


@dataclass(frozen=True)
class WarrantyDecision:
    """Whether a product is under warranty on a day, and on what grounds."""

    covered: bool
    until: date | None
    reason: str


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # The same day of the month, or the month's last day (31 Jan + 1 month → 28/29 Feb).
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def decide_warranty(
    *,
    on: date,
    warranty_until: date | None,
    purchased_on: date | None,
    installed_on: date | None,
    months: int | None,
) -> WarrantyDecision:
    """Decide a product's warranty on ``on``: its own end date if recorded, else ``months``
    from installation (the warranty starts when the product is put to use), else from
    purchase; no dates, no warranty.

    >>> decision = decide_warranty(on=date(2026, 12, 1), warranty_until=None,
    ...                            purchased_on=date(2024, 10, 1),
    ...                            installed_on=date(2024, 12, 15), months=24)
    >>> decision.covered, decision.until.isoformat(), decision.reason
    (True, '2026-12-15', '24 months from installation on 2024-12-15')
    >>> decide_warranty(on=date(2026, 12, 1), warranty_until=None, purchased_on=date(2024, 10, 1),
    ...                 installed_on=None, months=24).covered
    False
    """
    if warranty_until is not None:
        return WarrantyDecision(
            on <= warranty_until, warranty_until, f"warranty until {warranty_until.isoformat()}"
        )
    start, event = (installed_on, "installation") if installed_on else (purchased_on, "purchase")
    if start is None or months is None:
        missing = "no warranty period for the category" if start else "no purchase date"
        return WarrantyDecision(False, None, missing)
    until = _add_months(start, months)
    return WarrantyDecision(
        start <= on <= until, until, f"{months} months from {event} on {start.isoformat()}"
    )


def warranty_months(
    schema: Sequence[TicketTypeCategories], *, ticket_type: str, category: str
) -> int | None:
    """The configured warranty period of ``category``: as listed under ``ticket_type``, else
    under any other type (a repair and an installation of one product category share it).

    >>> from hotline.config.center import TicketCategory, TicketTypeCategories
    >>> schema = [TicketTypeCategories(type="installation", categories=[
    ...     TicketCategory(id="water_heater", warranty_months=36)])]
    >>> warranty_months(schema, ticket_type="repair", category="water_heater")
    36
    """
    periods = [
        (section.type != ticket_type, c.warranty_months)
        for section in schema
        for c in section.categories
        if c.id == category and c.warranty_months is not None
    ]
    return min(periods)[1] if periods else None
