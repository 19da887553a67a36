"""The rules every customer and product field obeys, wherever the data comes from.

A customer typed in by an agent (the API) and one read from a spreadsheet (the CSV import)
pass through the same checks, so an import cannot store what the desktop would refuse (a VIP
level of 99, a 300-character name, a phone number that is not one). The lengths are those of
the stored columns: a longer value would fail in the database instead of being explained.

>>> [str(p) for p in customer_problems(name="", vip_level=7, line=3, file="c.csv")]
['c.csv:3: name: a customer needs a name', 'c.csv:3: vip_level: must be from 0 to 5, not 7']
"""

from __future__ import annotations

from collections.abc import Sequence

from hotline.core.errors import Problem
from hotline.crm.phones import normalize

NAME_LENGTH = 128
SITE_LENGTH = 64
ADDRESS_LENGTH = 256
EMAIL_LENGTH = 254
PHONE_LENGTH = 40
LABEL_LENGTH = 32
MODEL_LENGTH = 64
CATEGORY_LENGTH = 64
SERIAL_LENGTH = 64
#: VIP levels: 0 (none) up to 5 (the highest service tier).
VIP_MIN = 0
VIP_MAX = 5
#: The most phones, e-mails or addresses one customer record carries.
MAX_ENTRIES = 20


def parse_vip_level(text: str) -> int:
    """Read a VIP level written in a file (empty means 0); ``ValueError`` says the rule.

    >>> parse_vip_level(" 3 "), parse_vip_level("")
    (3, 0)
    >>> parse_vip_level("gold")
    Traceback (most recent call last):
    ...
    ValueError: must be a whole number from 0 to 5, not 'gold'
    """
    text = text.strip()
    if not text:
        return 0
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"must be a whole number from {VIP_MIN} to {VIP_MAX}, not {text!r}")
    return int(text)


def _too_long(
    value: str | None, limit: int, field: str, file: str | None, line: int | None
) -> list[Problem]:
    if value is not None and len(value.strip()) > limit:
        return [Problem(f"at most {limit} characters, not {len(value.strip())}", file, line, field)]
    return []


def customer_problems(
    *,
    name: str,
    phones: Sequence[str] = (),
    emails: Sequence[str] = (),
    addresses: Sequence[str] = (),
    site: str | None = None,
    vip_level: int = 0,
    default_area_code: str | None = None,
    line: int | None = None,
    file: str | None = None,
) -> list[Problem]:
    """Every rule a customer's fields break, located at ``file``/``line`` when given."""
    problems: list[Problem] = []
    if not name.strip():
        problems.append(Problem("a customer needs a name", file, line, "name"))
    problems += _too_long(name, NAME_LENGTH, "name", file, line)
    problems += _too_long(site, SITE_LENGTH, "site", file, line)
    for field, values in (("phones", phones), ("emails", emails), ("addresses", addresses)):
        if len(values) > MAX_ENTRIES:
            problems.append(Problem(f"at most {MAX_ENTRIES} {field}", file, line, field))
    for raw in phones:
        if len(raw.strip()) > PHONE_LENGTH:
            problems += _too_long(raw, PHONE_LENGTH, "phones", file, line)
            continue
        try:
            normalize(raw, default_area_code=default_area_code)
        except ValueError as error:
            problems.append(Problem(str(error), file, line, "phones"))
    for address in emails:
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            problems.append(Problem(f"not an e-mail address: {address!r}", file, line, "emails"))
        problems += _too_long(address, EMAIL_LENGTH, "emails", file, line)
    for text in addresses:
        problems += _too_long(text, ADDRESS_LENGTH, "addresses", file, line)
    if not VIP_MIN <= vip_level <= VIP_MAX:
        problems.append(
            Problem(
                f"must be from {VIP_MIN} to {VIP_MAX}, not {vip_level}", file, line, "vip_level"
            )
        )
    return problems


def product_problems(
    *,
    model: str,
    serial_number: str | None = None,
    category: str = "",
    line: int | None = None,
    file: str | None = None,
) -> list[Problem]:
    """Every rule a product's fields break.

    >>> [p.rule for p in product_problems(model="")]
    ['a product needs a model']
    """
    problems: list[Problem] = []
    if not model.strip():
        problems.append(Problem("a product needs a model", file, line, "model"))
    problems += _too_long(model, MODEL_LENGTH, "model", file, line)
    problems += _too_long(serial_number, SERIAL_LENGTH, "serial_number", file, line)
    problems += _too_long(category, CATEGORY_LENGTH, "category", file, line)
    return problems
