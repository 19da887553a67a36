"""Bencode, the encoding of rtpengine's ng control protocol (and of BitTorrent).

rtpengine's ng protocol sends ``<cookie> <bencoded dictionary>`` datagrams; values are
byte strings, integers, lists and dictionaries. Strings come back as ``bytes`` and are
decoded to ``str`` here because every ng value we read is text.

>>> encode({"command": "ping"})
b'd7:command4:pinge'
>>> decode(b'd6:result4:ponge')
{'result': 'pong'}
"""

from __future__ import annotations

from typing import Any


class BencodeError(ValueError):
    """The bytes are not valid bencode."""


def encode(value: Any) -> bytes:
    """Encode ``value`` (str, bytes, int, bool, list, tuple, dict) as bencode."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


def _encode(value: Any, out: list[bytes]) -> None:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, str):
        raw = value.encode()
        out.append(b"%d:%s" % (len(raw), raw))
    elif isinstance(value, bytes):
        out.append(b"%d:%s" % (len(value), value))
    elif isinstance(value, list | tuple):
        out.append(b"l")
        for item in value:
            _encode(item, out)
        out.append(b"e")
    elif isinstance(value, dict):
        out.append(b"d")
        # bencode dictionaries are sorted by raw key bytes
        for key in sorted(value, key=lambda k: k.encode() if isinstance(k, str) else k):
            _encode(key, out)
            _encode(value[key], out)
        out.append(b"e")
    else:
        raise TypeError(f"cannot bencode {type(value).__name__}")


def decode(data: bytes) -> Any:
    """Decode one bencoded value; trailing bytes are an error."""
    value, end = _decode(data, 0)
    if end != len(data):
        raise BencodeError(f"trailing bytes at offset {end}")
    return value


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    if at >= len(data):
        raise BencodeError("unexpected end of data")
    lead = data[at : at + 1]
    if lead == b"i":
        end = data.find(b"e", at)
        if end < 0:
            raise BencodeError("unterminated integer")
        try:
            return int(data[at + 1 : end]), end + 1
        except ValueError as exc:
            raise BencodeError(f"bad integer at offset {at}") from exc
    if lead in (b"l", b"d"):
        items: list[Any] = []
        at += 1
        while data[at : at + 1] != b"e":
            item, at = _decode(data, at)
            items.append(item)
        if lead == b"l":
            return items, at + 1
        if len(items) % 2:
            raise BencodeError("dictionary with a key but no value")
        return {items[i]: items[i + 1] for i in range(0, len(items), 2)}, at + 1
    if lead.isdigit():
        colon = data.find(b":", at)
        if colon < 0:
            raise BencodeError("string without length separator")
        length = int(data[at:colon])
        start = colon + 1
        if start + length > len(data):
            raise BencodeError("string runs past the end")
        raw = data[start : start + length]
        try:
            return raw.decode(), start + length
        except UnicodeDecodeError:
            return raw, start + length
    raise BencodeError(f"unexpected byte {lead!r} at offset {at}")
