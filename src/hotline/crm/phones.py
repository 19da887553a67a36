"""Phone numbers: one normal form (E.164) for every way a Chinese number is written or shown.

Caller ID and customer records write the same number many ways: ``13812345678``,
``+86 138-1234-5678``, ``008613812345678``, ``013812345678`` (a mobile called from another
city with the trunk prefix), ``(010) 6552-1234``, ``010-65521234``, ``+86 10 6552 1234``, or
just ``65521234`` when a landline calls within its own city. Screen pop and de-duplication
compare numbers in E.164 (``+8613812345678``, ``+861065521234``), so all of these must land
on one form.

Numbering plan (MIIT): mobiles are 11 digits starting ``1[3-9]``; landlines are an area code
(``10`` Beijing and ``2X`` big cities: 2 digits; others 3 digits) plus a 7–8 digit local
number, written with the trunk prefix ``0`` inside China; ``400``/``800`` service numbers
have 10 digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*\d+$", re.IGNORECASE)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")


class PhoneKind(StrEnum):
    """What kind of number a normalised phone number is."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    SERVICE = "service"
    INTERNATIONAL = "international"


@dataclass(frozen=True)
class PhoneNumber:
    """A number in E.164 with its kind and, for landlines, the area code."""

    e164: str
    kind: PhoneKind
    area_code: str | None = None

    def masked(self) -> str:
        """The number with the middle digits hidden, for roles that may not see personal data.

        >>> normalize("13812345678").masked()
        '+86138****5678'
        """
        digits = self.e164
        return digits[:-8] + "****" + digits[-4:]


def area_code_length(national: str) -> int:
    """Length of the area code at the start of a national landline number (no trunk 0).

    >>> [area_code_length(n) for n in ("1065521234", "2165521234", "57187654321")]
    [2, 2, 3]
    """
    return 2 if national[0] in "12" else 3


def normalize(raw: str, *, default_area_code: str | None = None) -> PhoneNumber:
    """Normalise a phone number as written or shown by caller ID; raise ``ValueError`` if not one.

    ``default_area_code`` (e.g. ``"010"`` or ``"10"``) completes a local landline number
    written without its area code, as caller ID shows calls from the same city.

    >>> normalize("+86 138-1234-5678").e164
    '+8613812345678'
    >>> normalize("008613812345678") == normalize("013812345678") == normalize("13812345678")
    True
    >>> normalize("(010) 6552-1234")
    PhoneNumber(e164='+861065521234', kind=<PhoneKind.LANDLINE: 'landline'>, area_code='10')
    >>> normalize("65521234", default_area_code="010").e164
    '+861065521234'
    >>> normalize("400-810-8888").kind
    <PhoneKind.SERVICE: 'service'>
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _EXTENSION.sub("", text)
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise ValueError(f"not a phone number: {raw!r}")
    if plus or digits.startswith("00"):
        digits = digits[2:] if not plus else digits
        if not digits.startswith("86"):
            if not 7 <= len(digits) <= 15:
                raise ValueError(f"not a phone number: {raw!r}")
            return PhoneNumber("+" + digits, PhoneKind.INTERNATIONAL)
        return _national(digits[2:], raw, default_area_code, trunk=False)
    if digits.startswith("86") and len(digits) in (12, 13) and _MOBILE.fullmatch(digits[2:]):
        return PhoneNumber("+" + digits, PhoneKind.MOBILE)
    return _national(digits, raw, default_area_code, trunk=True)


def _national(digits: str, raw: str, default_area_code: str | None, *, trunk: bool) -> PhoneNumber:
    if trunk and digits.startswith("0"):
        digits = digits[1:]
    elif not trunk and digits.startswith("0"):
        # "+86 (0)10 ..." — some people keep the trunk prefix after the country code.
        digits = digits[1:]
    if _MOBILE.fullmatch(digits):
        return PhoneNumber("+86" + digits, PhoneKind.MOBILE)
    if _SERVICE.fullmatch(digits):
        return PhoneNumber("+86" + digits, PhoneKind.SERVICE)
    if 7 <= len(digits) <= 8 and not (trunk and raw.lstrip().startswith(("0", "+", "("))):
        if default_area_code is None:
            raise ValueError(f"local number {raw!r} needs an area code")
        digits = default_area_code.lstrip("0") + digits
    if (9 <= len(digits) <= 11 and digits[0] != "1") or digits.startswith("10"):
        area = digits[: area_code_length(digits)]
        local = digits[len(area) :]
        if 7 <= len(local) <= 8:
            return PhoneNumber("+86" + digits, PhoneKind.LANDLINE, area)
    raise ValueError(f"not a Chinese phone number: {raw!r}")


def try_normalize(raw: str, *, default_area_code: str | None = None) -> PhoneNumber | None:
    """Like :func:`normalize` but return ``None`` for something that is not a phone number."""
    try:
        return normalize(raw, default_area_code=default_area_code)
    except ValueError:
        return None
