"""Identifiers: short, sortable, printable ids for contacts, agents and records."""

from __future__ import annotations

import itertools
import os
import time

_counter = itertools.count()


def new_id(prefix: str) -> str:
    """Return a new unique id such as ``ct_018f3a...``: time-ordered, then random.

    >>> new_id("ct").startswith("ct_")
    True
    """
    millis = int(time.time() * 1000)
    return f"{prefix}_{millis:012x}{next(_counter) % 0x10000:04x}{os.urandom(4).hex()}"
