"""Call-progress tones: the ringback a caller hears while a number called out for them rings.

When the voice server dials out for a caller who is already on the line — an agent's
transfer to an outside number, a caller forwarded to a partner center or the duty number —
the caller should hear the far end ring, as they would had they dialled it themselves. Each
country has its own ring tone (ITU-T E.180 Supplement 2 lists them): China's is 450 Hz,
1 s on and 4 s off; the UK's 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off; North
America's 440+480 Hz, 2 s on, 4 s off. The center file's ``ringback`` section says which
(China's by default), e.g. the UK's:
``ringback: {frequencies_hz: [400, 450], cadence_s: [0.4, 0.2, 0.4, 2.0]}``.

``cadence_s`` alternates on and off, starting with on. Pure: no I/O.

>>> tone = RingbackTone()
>>> tone.frequencies_hz, tone.cadence_s, tone.cycle_s
([450.0], [1.0, 4.0], 5.0)
>>> try:
...     RingbackTone(frequencies_hz=[450], cadence_s=[1.0])
... except ValueError as error:
...     print(error.errors()[0]["msg"][:62])
Value error, the cadence alternates on and off, so it has an e
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The telephone band G.711 carries (ITU-T G.712): a tone outside it is not heard.
LOWEST_HZ, HIGHEST_HZ = 100.0, 3400.0
#: The longest single step of a cadence (seconds): longer is a dead line, not a ring.
LONGEST_STEP_S = 10.0


class RingbackTone(BaseModel):
    """The ringback tone: one or two frequencies sounding together, and the on/off cadence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frequencies_hz: list[float] = Field(
        default_factory=lambda: [450.0],
        min_length=1,
        max_length=2,
        description="one tone or two sounding together (China: 450; the UK: 400 and 450)",
    )
    cadence_s: list[float] = Field(
        default_factory=lambda: [1.0, 4.0],
        min_length=1,
        max_length=8,
        description="seconds on, off, on, off... starting with on (China: 1 on, 4 off)",
    )

    @field_validator("frequencies_hz")
    @classmethod
    def _in_the_band(cls, value: list[float]) -> list[float]:
        for hz in value:
            if not LOWEST_HZ <= hz <= HIGHEST_HZ:
                raise ValueError(
                    f"{hz:g} Hz is outside the telephone band {LOWEST_HZ:g}-{HIGHEST_HZ:g} Hz"
                )
        return value

    @field_validator("cadence_s")
    @classmethod
    def _on_and_off(cls, value: list[float]) -> list[float]:
        if len(value) % 2:
            raise ValueError(
                "the cadence alternates on and off, so it has an even number of steps "
                f"(got {len(value)}): e.g. [1.0, 4.0]"
            )
        for step in value:
            if not 0.05 <= step <= LONGEST_STEP_S:
                raise ValueError(
                    f"each step lasts 0.05 to {LONGEST_STEP_S:g} s (got {step:g} s in {value})"
                )
        return value

    @property
    def cycle_s(self) -> float:
        """One whole cycle of the cadence, in seconds."""
        return float(sum(self.cadence_s))
