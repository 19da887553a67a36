"""Entry points (#16): METRICS.md knows the channel ``chat`` but no WeChat, so a WeChat
follower's conversation is counted under ``chat``; the contact record's optional ``entry``
says where a chat came in (``web``, ``wechat``, ``sms``), and the KPI and experience reports
break down by it. Data without it gives every figure as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hotline.core.events import Channel, Event, EventKind
from hotline.metrics.compute import (
    experience_figures,
    frame_to_csv,
    queue_figures,
    records_to_frame,
)
from hotline.metrics.importer import read_contact_records
from hotline.metrics.records import ContactRecord, fold_events
from tests.unit.metrics.test_cases import T0, answered_contact

WEB = replace(answered_contact("web-1", "chat", T0), entry="web", customer="13800138001")
WECHAT = replace(answered_contact("wx-1", "chat", T0 + 60), entry="wechat", customer="wechat:oL")
# Answered past the service-level threshold (20 s).
WECHAT_LATE = replace(WECHAT, contact_id="wx-2", customer="wechat:oA", answered_at=T0 + 400)
CALL = answered_contact("call-1", "voice", T0 + 180)


def _figures(records: list[ContactRecord], by: tuple[str, ...]) -> dict[object, dict[str, object]]:
    rows = queue_figures(records_to_frame(records), interval="day", by=by).rows()
    return {row[by[0]]: row for row in rows}


def test_the_kpi_report_breaks_chats_down_by_entry_point() -> None:
    records = [WEB, WECHAT, WECHAT_LATE, CALL]
    by_entry = _figures(records, ("entry",))
    assert {k: r["offered"] for k, r in by_entry.items()} == {"web": 1, "wechat": 2, None: 1}
    assert by_entry["web"]["service_level"] == 1.0
    assert by_entry["wechat"]["service_level"] == 0.5
    assert by_entry["wechat"]["aht_s"] == 60.0
    # By channel WeChat still counts under chat, as METRICS.md's channel list says.
    by_channel = _figures(records, ("channel",))
    assert {k: r["offered"] for k, r in by_channel.items()} == {"chat": 3, "voice": 1}


def test_without_entry_points_every_figure_is_as_before() -> None:
    records = [WEB, WECHAT, WECHAT_LATE, CALL]
    plain = [replace(r, entry=None) for r in records]
    with_entry = queue_figures(records_to_frame(records), interval="day", by=("channel",))
    without = queue_figures(records_to_frame(plain), interval="day", by=("channel",))
    assert with_entry.rows() == without.rows()


def test_the_arrived_event_names_the_entry_point() -> None:
    log = [
        Event(1, T0, EventKind.ARRIVED, "wx-1", channel=Channel.CHAT,
              data={"customer": "wechat:oLVP", "entry": "wechat"}),
        Event(2, T0 + 1, EventKind.FINISHED, "wx-1", data={"outcome": "abandoned"}),
    ]  # fmt: skip
    [record] = fold_events(log)
    assert (record.channel, record.entry) == ("chat", "wechat")


def test_csat_breaks_down_by_entry_point() -> None:
    log = [
        Event(1, T0, EventKind.ARRIVED, "wx-1", channel=Channel.CHAT, data={"entry": "wechat"}),
        Event(2, T0, EventKind.ARRIVED, "web-1", channel=Channel.CHAT, data={"entry": "web"}),
        Event(3, T0 + 90, EventKind.SURVEY_ANSWERED, "wx-1", queue="chat",
              data={"score": 5, "scale_max": 5}),
        Event(4, T0 + 95, EventKind.SURVEY_ANSWERED, "web-1", queue="chat",
              data={"score": 2, "scale_max": 5}),
    ]  # fmt: skip
    rows = experience_figures(log, interval="day", by=("entry",)).rows(named=True)
    assert {r["entry"]: r["csat"] for r in rows} == {"web": 0.0, "wechat": 1.0}


def test_entry_is_an_optional_column_of_the_contact_record_file(tmp_path: Path) -> None:
    written = tmp_path / "entries.csv"
    assert frame_to_csv(records_to_frame([WEB, WECHAT, CALL]), written) == 3
    assert [r.entry for r in read_contact_records(written).records] == ["web", "wechat", None]
    old = tmp_path / "old.csv"
    old.write_text(
        "contact_id,arrived_at,outcome\nc1,2026-03-02T00:00:00+00:00,closed\n", encoding="utf-8"
    )
    assert [r.entry for r in read_contact_records(old).records] == [None]
