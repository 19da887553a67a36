"""Crisis mode (应急模式): what changes at the center when a surge or an outage hits.

When a storm, a product recall or a network failure multiplies calls, a center cannot staff
its way out; it changes the rules. The center file's ``crisis`` section says how:

- ``announcement``: a prompt played to every caller at the front ("we know about the outage
  in …"), so many hang up informed instead of waiting to be told;
- ``close_queues``: non-urgent queues (installation bookings, general enquiries) close for the
  crisis: their callers hear the closed message, and the agents who served them serve the
  urgent queues;
- ``callback_after_s``: every caller still waiting after this many seconds is released with a
  callback that keeps their place, instead of abandoning.

The routing engine applies the last two through its queue rules
(:func:`hotline.routing.crisis.crisis_routing`); ``bench/crisis.py`` simulates a surge with and
without the mode. Pure: no I/O.

>>> CrisisConfig.model_validate({"close_queues": ["installation"], "callback_after_s": 30})
CrisisConfig(announcement=None, close_queues=['installation'], callback_after_s=30.0)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CrisisConfig(BaseModel):
    """The center file's ``crisis`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    announcement: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,64}$")
    close_queues: list[str] = Field(default_factory=list)
    callback_after_s: float | None = Field(default=None, gt=0, le=3600)
