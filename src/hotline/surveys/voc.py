"""The monthly voice-of-the-customer report (客户之声月报) for the product units.

One section per product line (the product a survey link was sent for; answers from the IVR
and chat, which know no product, form the line ``unknown``): the month's CSAT, DSAT, NPS and
resolution with their intervals, the weekly CSAT trend, the DSAT root causes
(:mod:`hotline.surveys.verbatims`) and the customers' own words sorted into **complaints**
(comments of responses with overall CSAT 1 or 2), **faults** and **suggestions**. Faults and
suggestions are found by keyword rules (:data:`FAULT_WORDS`, :data:`SUGGESTION_WORDS`), not
by a trained model: a comment may be in both, or in neither.

>>> from hotline.surveys.statistics import Response
>>> r = Response("c1", 1_767_225_600.0, "email", None, "a1", None, "washer",
...              {"overall": 2}, overall=2, comments=("洗衣机漏水，建议改进密封",))
>>> section = build_report([r], month="2026-01", timezone="UTC").products[0]
>>> section.product, section.complaints, section.faults == section.suggestions
('washer', ('洗衣机漏水，建议改进密封',), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.surveys.statistics import GroupFigures, Response, figures
from hotline.surveys.verbatims import RootCause, root_causes

#: Words that mark a comment as reporting a fault of the product (a broken machine).
FAULT_WORDS = (
    "故障", "坏", "漏水", "不加热", "不制冷", "不工作", "噪音", "异响", "报错", "跳闸", "漏电",
    "broken", "leak", "fault", "noise", "error", "not working",
)  # fmt: skip
#: Words that mark a comment as a suggestion.
SUGGESTION_WORDS = ("建议", "希望", "最好", "能不能", "suggest", "should", "would be nice")
#: Verbatims kept per kind and product (the newest first).
VERBATIMS = 20


@dataclass(frozen=True)
class WeekTrend:
    """One week's responses and CSAT for a product line (the week starts on its Monday)."""

    week: date
    responses: int
    csat: float | None


@dataclass(frozen=True)
class ProductSection:
    """What the customers of one product line said this month."""

    product: str
    figures: GroupFigures
    weekly: tuple[WeekTrend, ...]
    root_causes: tuple[RootCause, ...]
    complaints: tuple[str, ...]
    faults: tuple[str, ...]
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class VocReport:
    """The month's voice-of-the-customer report, one section per product line."""

    month: str
    products: tuple[ProductSection, ...]


def build_report(responses: Sequence[Response], *, month: str, timezone: str) -> VocReport:
    """The report of ``month`` (``YYYY-MM``) from its ``responses``, product lines by name."""
    zone = ZoneInfo(timezone)
    lines: dict[str, list[Response]] = {}
    for response in responses:
        lines.setdefault(response.value("product"), []).append(response)
    sections = []
    for product in sorted(lines):
        group = sorted(lines[product], key=lambda r: r.at, reverse=True)
        whole = figures(group)
        comments = [(r, c) for r in group for c in r.comments]
        complaints = [c for r, c in comments if r.overall is not None and r.overall <= 2]
        sections.append(
            ProductSection(
                product=product,
                figures=GroupFigures(
                    product, whole.responses, whole.csat, whole.dsat, whole.nps, whole.resolved
                ),
                weekly=_weekly(group, zone),
                root_causes=tuple(root_causes(complaints)),
                complaints=tuple(complaints[:VERBATIMS]),
                faults=tuple(_marked(comments, FAULT_WORDS)[:VERBATIMS]),
                suggestions=tuple(_marked(comments, SUGGESTION_WORDS)[:VERBATIMS]),
            )
        )
    return VocReport(month, tuple(sections))


def _marked(comments: list[tuple[Response, str]], words: Sequence[str]) -> list[str]:
    return [c for _, c in comments if any(w in c.lower() for w in words)]


def _weekly(group: list[Response], zone: ZoneInfo) -> tuple[WeekTrend, ...]:
    weeks: dict[date, list[Response]] = {}
    for response in group:
        day = datetime.fromtimestamp(response.at, zone).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(response)
    return tuple(
        WeekTrend(week, len(weeks[week]), figures(weeks[week]).csat.share) for week in sorted(weeks)
    )
