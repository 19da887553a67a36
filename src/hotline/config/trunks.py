"""Trunks: the lines a center's outbound calls leave by, one per site where sites have their own.

A center with several sites usually has a carrier line at each (合肥's trunk and 成都's): a
call an agent places — click-to-dial, a callback, a campaign's dialler, a caller forwarded to
a partner center or the duty number — should leave through the trunk of the site it belongs
to, so the customer sees that site's number and the call is billed to its line. The center
file lists them under ``trunks``: each has an ``id``, a SIP URI template (``{number}`` is the
dialled number), the ``site`` it belongs to (none: the center's default trunk), the number
shown to the called party (``caller_id``), and ``rewrite`` rules that turn the number as
dialled into the number the carrier expects (``+86551…`` → ``0551…``, ``0551…`` → a local
number without the area code).

The choice is :func:`choose_trunk`: the site's trunk, else the center's default, else the
voice server's ``--trunk`` (the override tests and single-site centers use). Pure: no I/O.

>>> hefei = Trunk(id="hefei-ct", uri="sip:{number}@10.1.0.1", site="hefei",
...               rewrite=[NumberRewrite(starts_with="+86", replace_with="0")])
>>> route = choose_trunk([hefei], site="hefei", fallback=None)
>>> route.trunk_id, route.contact("+8655163360000")
('hefei-ct', 'sip:055163360000@10.1.0.1')
>>> choose_trunk([hefei], site="chengdu", fallback="sip:{number}@127.0.0.1:5070").trunk_id
'--trunk'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.config.crisis import OUTSIDE_NUMBER

#: The id the voice server's ``--trunk`` goes by when it is the trunk chosen.
OVERRIDE_ID = "--trunk"


def check_uri_template(text: str) -> str:
    """A trunk's URI template must be a SIP URI naming ``{number}`` once, nothing else.

    >>> check_uri_template("sip:{number}@10.0.0.1:5060")
    'sip:{number}@10.0.0.1:5060'
    >>> check_uri_template("sip:10.0.0.1")
    Traceback (most recent call last):
    ...
    ValueError: 'sip:10.0.0.1' does not name {number} (e.g. sip:{number}@10.0.0.1:5060)
    """
    if not text.startswith(("sip:", "sips:")):
        raise ValueError(f"{text!r} is not a SIP URI (sip:… or sips:…)")
    if text.count("{number}") != 1:
        raise ValueError(f"{text!r} does not name {{number}} (e.g. sip:{{number}}@10.0.0.1:5060)")
    try:
        text.format(number="0")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"{text!r}: only {{number}} may be in braces ({exc})") from None
    return text


def check_number_pattern(text: str) -> str:
    """An entry of the center file's ``transfer_numbers``: a regular expression the whole
    outside number an agent transfers a caller to must match (``1[3-9][0-9]{9}``: a mainland
    mobile; ``0551[0-9]{8}``: any line in 合肥).

    >>> check_number_pattern("1[3-9][0-9]{9}")
    '1[3-9][0-9]{9}'
    >>> check_number_pattern("1[3-9")
    Traceback (most recent call last):
    ...
    ValueError: '1[3-9' is not a regular expression (unterminated character set at position 1)
    """
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"{text!r} is not a regular expression ({exc})") from None
    return text


def transfer_allowed(patterns: Sequence[str], number: str) -> bool:
    """Whether an agent may transfer a caller to ``number``: any number when the center
    lists no ``transfer_numbers``, else one that a listed pattern matches whole. (The
    do-not-call list is for calls the center places, not for a caller handed on.)

    >>> transfer_allowed([], "13900001111"), transfer_allowed(["1[3-9][0-9]{9}"], "13900001111")
    (True, True)
    >>> transfer_allowed(["1[3-9][0-9]{9}"], "139000011119"), transfer_allowed(["0551"], "05511")
    (False, False)
    """
    return not patterns or any(re.fullmatch(pattern, number) for pattern in patterns)


class NumberRewrite(BaseModel):
    """A number starting with ``starts_with`` is dialled with ``replace_with`` instead of
    that start (the longest matching rule of a trunk applies; one rule at most)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_with: str = Field(pattern=r"^\+?[0-9*#]{0,16}$")
    replace_with: str = Field(default="", pattern=r"^\+?[0-9*#]{0,16}$")


class Trunk(BaseModel):
    """One outbound trunk of the center file (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = ""
    uri: str = Field(description="SIP URI template; {number} is the dialled number")
    site: str | None = Field(default=None, description="none: the center's default trunk")
    caller_id: str | None = Field(
        default=None,
        pattern=OUTSIDE_NUMBER,
        description="the number the called party sees (the site's own number)",
    )
    rewrite: list[NumberRewrite] = Field(default_factory=list, max_length=32)

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return check_uri_template(value)


@dataclass(frozen=True, slots=True)
class OutboundRoute:
    """The trunk a call leaves by, as the voice driver dials it."""

    trunk_id: str
    uri: str
    caller_id: str | None = None
    rewrite: tuple[tuple[str, str], ...] = ()

    def number(self, number: str) -> str:
        """``number`` as the carrier expects it (the longest matching rewrite applied).

        >>> OutboundRoute("t", "sip:{number}@h", rewrite=(("0551", ""), ("0", "0"))).number(
        ...     "055163360000")
        '63360000'
        """
        best = max(
            (rule for rule in self.rewrite if number.startswith(rule[0])),
            key=lambda rule: len(rule[0]),
            default=None,
        )
        return number if best is None else best[1] + number[len(best[0]) :]

    def contact(self, number: str) -> str:
        """The SIP URI dialled for ``number`` through this trunk."""
        return self.uri.format(number=self.number(number))

    def caller(self, default: str) -> str:
        """The calling party presented: the trunk's ``caller_id``, else ``default``."""
        return self.caller_id or default


def route_of(trunk: Trunk) -> OutboundRoute:
    """The :class:`OutboundRoute` of a configured trunk."""
    return OutboundRoute(
        trunk.id,
        trunk.uri,
        trunk.caller_id,
        tuple((rule.starts_with, rule.replace_with) for rule in trunk.rewrite),
    )


def choose_trunk(
    trunks: Sequence[Trunk], *, site: str | None, fallback: str | None
) -> OutboundRoute | None:
    """The trunk a call of ``site`` leaves by: the site's own trunk, else the center's
    default (a trunk without a site), else ``fallback`` (the voice server's ``--trunk``);
    ``None`` when there is none of these (the call cannot be placed).

    >>> default = Trunk(id="main", uri="sip:{number}@10.0.0.1")
    >>> chengdu = Trunk(id="cd", uri="sip:{number}@10.2.0.1", site="chengdu", caller_id="02866")
    >>> [choose_trunk([default, chengdu], site=s, fallback=None).trunk_id
    ...  for s in ("chengdu", "hefei", None)]
    ['cd', 'main', 'main']
    >>> choose_trunk([], site="hefei", fallback=None) is None
    True
    """
    if site is not None:
        for trunk in trunks:
            if trunk.site == site:
                return route_of(trunk)
    for trunk in trunks:
        if trunk.site is None:
            return route_of(trunk)
    if fallback is not None:
        return OutboundRoute(OVERRIDE_ID, fallback)
    return None


def trunk_problems(
    trunks: Sequence[Trunk], sites: set[str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules across the ``trunks`` section, each broken one located (path in the file, rule):
    unique ids, a known site, one trunk per site, one center default, each rewrite's start
    once.

    >>> t = [Trunk(id="a", uri="sip:{number}@h", site="x"), Trunk(id="a", uri="sip:{number}@h")]
    >>> for path, rule in trunk_problems(t, {"hefei"}):
    ...     print(path, rule)
    ('trunks', 0, 'site') unknown site 'x' (defined: hefei)
    ('trunks', 1, 'id') duplicate trunk 'a'
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    ids: set[str] = set()
    by_site: dict[str | None, str] = {}
    for i, trunk in enumerate(trunks):
        if trunk.id in ids:
            problems.append((("trunks", i, "id"), f"duplicate trunk {trunk.id!r}"))
        ids.add(trunk.id)
        if trunk.site is not None and trunk.site not in sites:
            choices = ", ".join(sorted(sites)) or "none defined"
            problems.append(
                (("trunks", i, "site"), f"unknown site {trunk.site!r} (defined: {choices})")
            )
        other = by_site.setdefault(trunk.site, trunk.id)
        if other != trunk.id:
            whose = f"site {trunk.site!r}" if trunk.site else "the center (no site: the default)"
            problems.append(
                (("trunks", i, "site"), f"{whose} already has trunk {other!r}: one trunk each")
            )
        starts: set[str] = set()
        for j, rule in enumerate(trunk.rewrite):
            if rule.starts_with in starts:
                problems.append(
                    (
                        ("trunks", i, "rewrite", j, "starts_with"),
                        f"a rewrite of numbers starting {rule.starts_with!r} is listed twice",
                    )
                )
            starts.add(rule.starts_with)
    return problems
