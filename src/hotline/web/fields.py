"""Request fields shared by the API routes: record ids and time zones, checked at the edge.

A value the database or the calendar cannot hold is refused with a 422 naming the field,
before it reaches a query: record ids are INTEGER columns, 32 bits on PostgreSQL (and an id
of 2**63 overflows even SQLite's 64 bits), so a larger id was a 500; an unknown time-zone
name failed deep inside the report engine.

>>> check_time_zone("Asia/Shanghai")
'Asia/Shanghai'
>>> check_time_zone("Mars/Olympus")
Traceback (most recent call last):
...
ValueError: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai or UTC)
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Form, Path, Query
from pydantic import AfterValidator, Field

#: The largest id a record can have: the top of PostgreSQL's INTEGER (signed 32 bits).
MAX_RECORD_ID = 2**31 - 1

#: A record id in the path (a ticket, customer, article, merge, recording).
RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID, description="A record id.")]
#: A record id in a request body or a query.
RecordRef = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]


def check_time_zone(name: str) -> str:
    """Return ``name`` when it is a known IANA time zone; ``ValueError`` otherwise."""
    try:
        if name and "\x00" not in name:
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai or UTC)")


#: An IANA time-zone name (``Asia/Shanghai``) in a query, refused with a 422 when unknown.
#: (FastAPI applies the validator only when Query sits inside the Annotated, not as default.)
TimeZoneQuery = Annotated[
    str,
    Query(max_length=64, description="IANA time zone, e.g. Asia/Shanghai."),
    AfterValidator(check_time_zone),
]
#: The same in a form field.
TimeZoneForm = Annotated[
    str,
    Form(max_length=64, description="IANA time zone, e.g. Asia/Shanghai."),
    AfterValidator(check_time_zone),
]
