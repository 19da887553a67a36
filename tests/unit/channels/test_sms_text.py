"""An SMS's text on the wire: alphabet, parts, receipts."""

from __future__ import annotations

import pytest

from hotline.channels.sms.text import (
    DEFAULT_ALPHABET,
    UCS2,
    UDHI,
    TextRefused,
    decode,
    parse_receipt,
    segments,
)


def _joined(text: str) -> str:
    message = segments(text, reference=200)
    return "".join(
        decode(p, data_coding=message.data_coding, esm_class=message.esm_class)[0]
        for p in message.parts
    )


def test_an_emoji_is_never_split_between_two_parts() -> None:
    text = "您" * 66 + "😀" + "好" * 10  # the emoji's two UTF-16 units fall on parts' edge
    message = segments(text, reference=1)
    assert message.data_coding == UCS2 and message.esm_class == UDHI
    first = decode(message.parts[0], data_coding=UCS2, esm_class=UDHI)
    assert first[0] == "您" * 66 and "\ufffd" not in _joined(text)
    assert _joined(text) == text


def test_text_smscs_read_differently_goes_as_ucs2_and_plain_text_does_not() -> None:
    assert segments("Reply STOP to opt out", reference=1).data_coding == DEFAULT_ALPHABET
    assert segments("Mail us: help@example.com", reference=1).data_coding == UCS2
    assert [len(p) for p in segments("a" * 160, reference=1).parts] == [160]
    assert len(segments("a" * 161, reference=1).parts) == 2


def test_empty_and_endless_messages_are_refused() -> None:
    with pytest.raises(TextRefused, match="some text"):
        segments("", reference=1)
    with pytest.raises(TextRefused, match="255 parts"):
        segments("长" * (67 * 255 + 1), reference=1)


def test_a_failed_delivery_receipt_says_so() -> None:
    receipt = parse_receipt("id:7f3 sub:001 dlvrd:000 done date:2612030901 stat:UNDELIV err:069")
    assert receipt is not None and (receipt.message_id, receipt.error) == ("7f3", "069")
    assert not receipt.delivered
    assert parse_receipt("hello") is None
