"""Crisis mode (应急模式): what changes at the center when a surge or an outage hits.

When a storm, a product recall or a network failure multiplies calls, a center cannot staff
its way out; it changes the rules. The center file's ``crisis`` section says how:

- ``announcement``: a prompt played to every caller at the front ("we know about the outage
  in …"), so many hang up informed instead of waiting to be told;
- ``close_queues``: non-urgent queues (installation bookings, general enquiries) close for the
  crisis: their callers hear the closed message, and the agents who served them serve the
  urgent queues;
- ``callback_after_s``: every caller still waiting after this many seconds is released with a
  callback that keeps their place, instead of abandoning;
- ``overflow``: callers past a bound go to a partner center or an outside number through the
  trunk (:class:`CrisisOverflow`: a caller arriving at a queue that already holds
  ``queue_longer_than`` callers is forwarded to ``number``);
- ``switch``: when the live center turns the mode on by itself (:class:`CrisisSwitchRule`: a
  queue longer than ``queue_longer_than`` callers, or a queue's service level this interval
  below ``service_level_below``, held for ``for_minutes``), and whether it also turns it back
  off by rule once that has cleared for as long (``switch_off``; otherwise a supervisor does).

A supervisor switches the mode on and off from the wallboard with a reason, whatever the rule.

The routing engine applies the last two through its queue rules
(:func:`hotline.routing.crisis.crisis_routing`); ``bench/crisis.py`` simulates a surge with and
without the mode. Pure: no I/O.

>>> crisis = CrisisConfig.model_validate({"close_queues": ["installation"], "callback_after_s": 30})
>>> crisis.close_queues, crisis.callback_after_s, crisis.overflow
(['installation'], 30.0, None)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: An outside number the trunk dials (digits, a leading +, * and #).
OUTSIDE_NUMBER = r"^\+?[0-9*#]{2,32}$"


class CrisisSwitchRule(BaseModel):
    """When the live center switches crisis mode on (and, with ``switch_off``, off) by itself.

    The condition holds while any queue has more than ``queue_longer_than`` callers waiting,
    or any queue's service level this interval is below ``service_level_below`` (a share,
    0..1); held for ``for_minutes`` it switches the mode on. With ``switch_off`` the mode goes
    off again once the condition has been clear for as long; without it, only a supervisor
    switches it off.

    >>> CrisisSwitchRule(queue_longer_than=20, for_minutes=5).switch_off
    False
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_longer_than: int | None = Field(default=None, ge=0, le=100_000)
    service_level_below: float | None = Field(default=None, gt=0, le=1)
    for_minutes: float = Field(default=5, ge=0, le=24 * 60)
    switch_off: bool = False

    @model_validator(mode="after")
    def _some_condition(self) -> CrisisSwitchRule:
        if self.queue_longer_than is None and self.service_level_below is None:
            raise ValueError("give queue_longer_than, service_level_below or both")
        return self


class CrisisOverflow(BaseModel):
    """Overflow past a bound while crisis mode is on: a caller arriving at a queue that
    already holds ``queue_longer_than`` callers is forwarded through the trunk to ``number``
    (a partner center, an outside number) instead of joining the line.

    >>> CrisisOverflow(queue_longer_than=30, number="4008009000").number
    '4008009000'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_longer_than: int = Field(ge=1, le=100_000)
    number: str = Field(pattern=OUTSIDE_NUMBER)
    #: Tried next, in order, when ``number`` is busy, unreachable or does not answer.
    if_busy: list[Annotated[str, Field(pattern=OUTSIDE_NUMBER)]] = Field(
        default_factory=list, max_length=5
    )


class CrisisConfig(BaseModel):
    """The center file's ``crisis`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    announcement: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,64}$")
    close_queues: list[str] = Field(default_factory=list)
    callback_after_s: float | None = Field(default=None, gt=0, le=3600)
    overflow: CrisisOverflow | None = None
    switch: CrisisSwitchRule | None = None
