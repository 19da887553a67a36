"""The monthly voice-of-the-customer report: built per product line, written as Excel and PDF
by ``hotline surveys voc`` from the responses in the database."""

from __future__ import annotations

import io
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.core.events import Channel, Event, EventKind
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.surveys.statistics import Response
from hotline.surveys.voc import build_report
from hotline.surveys.voc_export import pdf, workbook

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _response(i: int, product: str | None, overall: int, comment: str, day: int) -> Response:
    at = datetime(2026, 11, day, 12, tzinfo=SHANGHAI).timestamp()
    return Response(
        f"c{i}", at, "email", "repair", "a1", "t1", product, {"overall": overall},
        overall=overall, comments=(comment,) if comment else (),
    )  # fmt: skip


RESPONSES = [
    _response(1, "washer", 1, "洗衣机漏水，师傅也没修好", 3),
    _response(2, "washer", 2, '=HYPERLINK("http://x") 师傅迟到', 4),
    _response(3, "washer", 5, "建议增加夜间上门服务", 12),
    _response(4, "washer", 4, "", 13),
    _response(5, None, 5, "", 20),  # the IVR's answer: no product
]


def test_the_report_has_a_section_per_product_line_with_its_words_sorted() -> None:
    report = build_report(RESPONSES, month="2026-11", timezone="Asia/Shanghai")
    assert [s.product for s in report.products] == ["unknown", "washer"]
    washer = report.products[1]
    assert (washer.figures.responses, washer.figures.csat.share) == (4, 0.5)
    assert washer.complaints == (RESPONSES[1].comments[0], RESPONSES[0].comments[0])
    assert washer.faults == ("洗衣机漏水，师傅也没修好",)
    assert washer.suggestions == ("建议增加夜间上门服务",)
    assert [(w.week.isoformat(), w.responses, w.csat) for w in washer.weekly] == [
        ("2026-11-02", 2, 0.0),
        ("2026-11-09", 2, 1.0),
    ]
    assert sum(c.size for c in washer.root_causes) == 2


def test_the_files_keep_customers_words_as_text_and_embed_a_chinese_font() -> None:
    report = build_report(RESPONSES, month="2026-11", timezone="Asia/Shanghai")
    book = load_workbook(io.BytesIO(workbook(report)))
    assert book.sheetnames == ["summary", "1-unknown", "2-washer"]
    summary = [[c.value for c in row] for row in book["summary"].iter_rows()]
    assert summary[3][:3] == ["washer", 4, 0.5]
    words = [row[0].value for row in book["2-washer"].iter_rows()]
    # a comment that looks like a formula stays the customer's words
    assert '=HYPERLINK("http://x") 师傅迟到' in words
    cell = next(r[0] for r in book["2-washer"].iter_rows() if str(r[0].value).startswith("="))
    assert cell.data_type == "s"
    document = pdf(report)
    assert document.startswith(b"%PDF") and b"/Count 2" in document  # a page per product
    assert b"NotoSansCJK" in document


def test_the_cli_writes_the_month_s_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = time.time()
    data = {
        "survey": "after-contact",
        "response": 1,
        "product": "water-heater",
        "answers": {"overall": 1, "comment": "热水器不加热"},
        "score": 1,
        "scale_max": 5,
    }
    with make_session_factory(engine)() as session:
        append(
            session,
            [Event(1, now, EventKind.SURVEY_ANSWERED, "e1", "a011", "repair", Channel.EMAIL, data)],
        )
        session.commit()
    engine.dispose()  # fmt: skip
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    month = datetime.fromtimestamp(now, SHANGHAI).strftime("%Y-%m")
    result = CliRunner().invoke(app, ["surveys", "voc", "--month", month, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "water-heater (1)" in result.output
    book = load_workbook(tmp_path / f"voc-{month}.xlsx")
    assert book.sheetnames == ["summary", "1-water-heater"]
    assert (tmp_path / f"voc-{month}.pdf").read_bytes().startswith(b"%PDF")
    bad = CliRunner().invoke(app, ["surveys", "voc", "--month", "2026-13"])
    assert bad.exit_code == 2 and "is not YYYY-MM" in bad.output
