"""The e-mail channel's pure rules: parsing, threading, headers, loop safety, bounces, limits."""

from __future__ import annotations

import email
from datetime import UTC, datetime

import pytest

from hotline.channels.email import headers, limits, messages, threads
from hotline.channels.email.bounces import classify
from tests.unit.channels.mail_samples import MALFORMED, bounce_of, customer_mail


def test_parse_reads_sender_text_references_and_attachment() -> None:
    raw = customer_mail(
        in_reply_to="<ours-2@support.example.com>",
        references="<ours-1@support.example.com> <ours-2@support.example.com>",
        attachment=b"\xff\xd8jpeg",
    )
    message = messages.parse(raw)
    assert message.sender == "li.lei@example.com"
    assert message.sender_name == "Li Lei"
    assert message.subject == "热水器不加热"
    assert message.text == "您好，热水器从昨天起不加热。"
    assert message.message_id == "<c1@example.com>"
    # nearest first: In-Reply-To, then References from the newest
    assert message.referenced == ("<ours-2@support.example.com>", "<ours-1@support.example.com>")
    assert [(a.filename, a.content_type, a.data) for a in message.attachments] == [
        ("fault.jpg", "image/jpeg", b"\xff\xd8jpeg")
    ]
    assert message.bounce is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (MALFORMED, "boundary never occurs"),
        (b"", "empty"),
        (b"To: a@b.c\r\nSubject: x\r\n\r\nno sender", "no sender address"),
        (
            b"From: a@b.c\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nx",
            "declares no boundary",
        ),
    ],
)
def test_malformed_messages_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(messages.MalformedMessage, match=reason):
        messages.parse(raw)


def test_threading_prefers_references_then_subject_then_new() -> None:
    by_refs = threads.thread(
        referenced=["<unknown@x>", "<ours@x>"],
        known={"<ours@x>": 3},
        subject_number="20261203000009",
        numbers={"20261203000009": 9},
    )
    assert by_refs == threads.ThreadDecision(3, "references")
    by_subject = threads.thread(
        referenced=["<unknown@x>"],
        known={},
        subject_number="20261203000009",
        numbers={"20261203000009": 9},
    )
    assert by_subject == threads.ThreadDecision(9, "subject")
    unknown_number = threads.thread(
        referenced=[], known={}, subject_number="20261203999999", numbers={}
    )
    assert unknown_number == threads.ThreadDecision(None, "new")
    assert threads.ticket_number_in("Re: 发票 [#123]") is None  # too short to be a number


def test_reply_headers_chain_references_and_tag_the_subject_once() -> None:
    refs = headers.reply_references("<c2@example.com>", ["<a@x>", "<c1@example.com>"])
    assert refs == ("<a@x>", "<c1@example.com>", "<c2@example.com>")
    long = headers.reply_references("<last@x>", [f"<{n}@x>" for n in range(40)])
    assert len(long) == headers.MAX_REFERENCES
    assert long[0] == "<0@x>"
    assert long[-1] == "<last@x>"
    subject = headers.reply_subject("热水器不加热", "20261203000001")
    assert subject == "Re: 热水器不加热 [#20261203000001]"
    assert headers.reply_subject(subject, "20261203000001") == subject
    raw = headers.build(
        headers.OutgoingMail(
            from_address="help@support.example.com",
            from_name="客服中心",
            to=("li.lei@example.com",),
            subject=subject,
            message_id="<r1@support.example.com>",
            text="已安排师傅上门。",
            in_reply_to="<c2@example.com>",
            references=refs,
            auto_submitted="auto-replied",
        ),
        date=datetime(2026, 12, 3, 2, 0, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == "<r1@support.example.com>"
    assert parsed["In-Reply-To"] == "<c2@example.com>"
    assert parsed["References"] == "<a@x> <c1@example.com> <c2@example.com>"
    assert parsed["Subject"] == subject
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed.get_content().strip() == "已安排师傅上门。"
    assert b"\r\n" in raw


@pytest.mark.parametrize(
    ("sender", "loop", "reason"),
    [
        ("li@example.com", {"Auto-Submitted": "auto-generated"}, "Auto-Submitted"),
        ("li@example.com", {"Precedence": "bulk"}, "Precedence: bulk"),
        ("li@example.com", {"List-Id": "<news.example.com>"}, "list mail"),
        ("li@example.com", {"Return-Path": "<>"}, "bounce"),
        ("MAILER-DAEMON@mx.example.com", {}, "mail system"),
        ("help@support.example.com", {}, "our own address"),
    ],
)
def test_no_auto_reply_to_automatic_or_bulk_mail(
    sender: str, loop: dict[str, str], reason: str
) -> None:
    allowed, why = headers.may_auto_reply(
        sender=sender, loop_headers=loop, own_addresses=["help@support.example.com"]
    )
    assert not allowed
    assert reason in why
    assert headers.may_auto_reply(
        sender="li@example.com", loop_headers={"Auto-Submitted": "no"}, own_addresses=[]
    ) == (True, "")


def test_a_dsn_names_the_bounced_message_and_a_delay_is_no_bounce() -> None:
    raw = bounce_of("<r1@support.example.com>")
    bounce = classify(email.message_from_bytes(raw, policy=email.policy.default))
    assert bounce is not None
    assert bounce.original_message_id == "<r1@support.example.com>"
    assert bounce.recipients == ("nobody@example.com",)
    assert bounce.status == "5.1.1"
    assert bounce.permanent
    assert "User unknown" in bounce.diagnostic
    assert messages.parse(raw).bounce == bounce
    delayed = raw.replace(b"Action: failed", b"Action: delayed")
    assert classify(email.message_from_bytes(delayed, policy=email.policy.default)) is None
    assert messages.parse(customer_mail()).bounce is None


def test_size_limits() -> None:
    small = limits.MessageLimits(max_message_bytes=1000, max_attachments=2)
    assert limits.too_large(1001, small)
    assert not limits.too_large(1000, small)
    assert limits.size_refusal(small).startswith("552 5.3.4")
    assert limits.attachments_refusal(2, small) is None
    assert "at most 2" in (limits.attachments_refusal(3, small) or "")
