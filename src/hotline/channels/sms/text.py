"""An SMS's text on the wire: alphabet, segmentation into parts, delivery receipts.

One SMS carries 140 bytes. Text that plain ASCII covers goes in the SMSC's default alphabet
(GSM 03.38, one character a byte on SMPP: 160 characters); anything else — Chinese above all —
in UCS-2 (UTF-16 big-endian, data_coding 8: 70 characters). A longer message is sent in parts,
each starting with a User Data Header (UDH: ``05 00 03 <reference> <total> <number>``, esm_class
with UDHI set) that the phone uses to join them: 153 characters a part in the default alphabet,
67 in UCS-2. A character outside the Basic Multilingual Plane (an emoji) is two UTF-16 units,
and a part never ends between them.

A delivery receipt comes back as a ``deliver_sm`` with esm_class 0x04 and the conventional text
``id:… sub:… dlvrd:… submit date:… done date:… stat:DELIVRD err:000 text:…`` (SMPP 3.4,
appendix B).

>>> message = segments("您好，您预约的空调安装时间为明天上午9点至11点。", reference=7)
>>> message.data_coding, len(message.parts)
(8, 1)
>>> len(segments("您" * 71, reference=7).parts)
2
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ALPHABET = 0x00
UCS2 = 0x08
UDHI = 0x40
RECEIPT = 0x04
#: Characters of one SMS, and of one part of a long one (the UDH takes 6 bytes).
SINGLE = {DEFAULT_ALPHABET: 160, UCS2: 70}
PART = {DEFAULT_ALPHABET: 153, UCS2: 67}
MAX_PARTS = 255
_PLAIN = re.compile(r"^[\x20-\x7e\n\r]*$")
# The characters of the default alphabet that differ from ASCII are avoided: SMSCs disagree
# on '@', '$', '_' and the braces, so such text goes as UCS-2 to arrive as written.
_AMBIGUOUS = set("@$_{}[]~^\\|`")


class TextRefused(ValueError):
    """A message that cannot be sent (empty, or more than 255 parts)."""


@dataclass(frozen=True, slots=True)
class Segmented:
    """A message ready for ``submit_sm``: its alphabet, esm_class and the bytes of each part."""

    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]


def segments(text: str, *, reference: int) -> Segmented:
    """``text`` in the alphabet it needs, in parts joined by ``reference`` (0–255).

    >>> segments("Your repair is booked for 9:00.", reference=1).parts
    (b'Your repair is booked for 9:00.',)
    >>> [len(p) for p in segments("x" * 200, reference=1).parts]
    [159, 53]
    """
    if not text:
        raise TextRefused("an SMS needs some text")
    plain = bool(_PLAIN.match(text)) and not (_AMBIGUOUS & set(text))
    coding = DEFAULT_ALPHABET if plain else UCS2
    units = list(text) if plain else _utf16_units(text)
    if len(units) <= SINGLE[coding]:
        return Segmented(coding, 0, (_encode(units, coding),))
    chunks = _chunks(units, PART[coding], coding)
    if len(chunks) > MAX_PARTS:
        raise TextRefused(f"an SMS has at most {MAX_PARTS} parts; this one needs {len(chunks)}")
    ref = reference % 256
    parts = tuple(
        bytes([0x05, 0x00, 0x03, ref, len(chunks), n]) + _encode(chunk, coding)
        for n, chunk in enumerate(chunks, start=1)
    )
    return Segmented(coding, UDHI, parts)


def _utf16_units(text: str) -> list[str]:
    """The text as UTF-16 code units (a character beyond the BMP is two)."""
    data = text.encode("utf-16-be")
    return [data[i : i + 2].decode("latin-1") for i in range(0, len(data), 2)]


def _encode(units: list[str], coding: int) -> bytes:
    if coding == DEFAULT_ALPHABET:
        return "".join(units).encode("ascii")
    return "".join(units).encode("latin-1")


def _chunks(units: list[str], size: int, coding: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    start = 0
    while start < len(units):
        end = min(start + size, len(units))
        if coding == UCS2 and end < len(units) and 0xD8 <= ord(units[end - 1][0]) <= 0xDB:
            end -= 1  # a high surrogate: keep the pair together in the next part
        chunks.append(units[start:end])
        start = end
    return chunks


def decode(short_message: bytes, *, data_coding: int, esm_class: int) -> tuple[str, int, int, int]:
    """An incoming part's text, and its UDH's (reference, total, number) — (0, 1, 1) if none.

    >>> part = bytes([5, 0, 3, 9, 2, 1]) + "您好".encode("utf-16-be")
    >>> decode(part, data_coding=8, esm_class=0x40)
    ('您好', 9, 2, 1)
    """
    reference, total, number = 0, 1, 1
    body = short_message
    if esm_class & UDHI and body:
        header = body[: body[0] + 1]
        body = body[body[0] + 1 :]
        if len(header) >= 6 and header[1] == 0x00 and header[2] == 0x03:
            reference, total, number = header[3], header[4], header[5]
    text = body.decode("utf-16-be", "replace") if data_coding == UCS2 else body.decode("latin-1")
    return text, reference, total, number


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery receipt: the SMSC's message id, the final state and its error code."""

    message_id: str
    state: str
    error: str

    @property
    def delivered(self) -> bool:
        """Whether the handset received it."""
        return self.state == "DELIVRD"


_RECEIPT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)(?:.*?err:(?P<err>\w+))?", re.S)


def parse_receipt(text: str) -> Receipt | None:
    """The receipt a ``deliver_sm`` with esm_class 0x04 carries (None when unreadable).

    >>> parse_receipt("id:42 sub:001 dlvrd:001 submit date:2612030900 done date:2612030901 "
    ...               "stat:DELIVRD err:000 text:您好")
    Receipt(message_id='42', state='DELIVRD', error='000')
    """
    found = _RECEIPT.search(text)
    if found is None:
        return None
    return Receipt(found["id"], found["stat"], found["err"] or "")
