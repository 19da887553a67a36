"""VICIdial's adaptive predictive pacing, re-implemented as the benchmark's peer.

Re-implemented in Python from reading VICIdial's ``bin/AST_VDadapt.pl`` (version 2.4, AGPLv2,
which sets ``auto_dial_level``) and the dial-count step of ``bin/AST_VDauto_dial.pl`` (which
places the calls). No code is copied; these behaviours are reproduced:

* **Samples every second**: ready agents (``READY``/``DONE``), answered calls waiting for an
  agent (``LIVE``) and all agents of the campaign; the *differential* is the mean of ready
  minus the mean of waiting over the last 15 samples (``count_agents_lines``).
* **Dial level corrected every 15 s** (``calculate_dial_level``): differential plus the
  ``adaptive_dl_diff_target`` setting, divided by the mean agent count, gives the relative
  correction; the **intensity** setting (``adaptive_intensity``, −40…+40) scales a positive
  correction by (1 + intensity/100) and a negative one by |intensity/100 − 1|; the new level
  is the old level × (1 + scaled correction), **clamped** to ``adaptive_maximum_level`` (3.0 by
  default) above and 1.0 below.
* **Drop statistics refreshed every 60 s** (``calculate_drops``), then used by the level rules:
  over 20 calls in the last minute with more than 50 % of them dropped halves the level; over
  50 calls today with drops above ``adaptive_dropped_percentage`` of today's answers (3 % by
  default) sets the level to 1.0 (``ADAPT_HARD_LIMIT``), halves it (``ADAPT_AVERAGE``) or
  **tapers** it (``ADAPT_TAPERED``): × hours-left/1000 in HHMM units before
  ``adaptive_latest_server_time`` (so no cut at all with more than ten hours left), 1.0 after.
* **Calls placed** (``AST_VDauto_dial.pl``): the goal is round(level × (ready + in-call
  agents)), less the campaign's calls already under way (ringing, waiting, connected).

The one departure: VICIdial's HHMM subtraction (17:00 − 15:30 = "170") is taken here as whole
hours × 100 + minutes of the time left (1 h 30 min = 130), since the pacer sees seconds left,
not the wall clock. Agents may pause at any time: VICIdial has no rule holding them
(``defers_release`` is false).
"""

from __future__ import annotations

import math
from collections import deque
from enum import StrEnum

from hotline.pacing.state import AbandonCap, CallResult, DialerState, Outcome

#: Seconds between two samples of ready agents and waiting calls.
SAMPLE_EVERY_S = 1.0
#: Samples in the rolling mean (``$stat_it``).
SAMPLES = 15
#: Seconds between two corrections of the dial level (``$diff_ratio_updater``).
LEVEL_EVERY_S = 15.0
#: Seconds between two refreshes of the drop statistics (``$drop_count_updater``).
DROPS_EVERY_S = 60.0


class AdaptiveMethod(StrEnum):
    """VICIdial's three adaptive dial methods: what happens when today's drops pass the limit."""

    HARD_LIMIT = "ADAPT_HARD_LIMIT"
    AVERAGE = "ADAPT_AVERAGE"
    TAPERED = "ADAPT_TAPERED"


class AdaptivePacer:
    """VICIdial's adaptive predictive pacing (the peer).

    >>> pacer = AdaptivePacer()
    >>> idle = DialerState(now=0.0, free_agents=10)
    >>> pacer.calls_to_place(idle), pacer.dial_level
    (10, 1.0)
    >>> for second in range(1, 16):
    ...     _ = pacer.calls_to_place(DialerState(now=float(second), free_agents=5,
    ...                                          talking_agents=5, ringing=5))
    >>> pacer.dial_level  # half the agents kept waiting: the level rises by half
    1.5
    """

    name = "adaptive"
    defers_release = False

    def __init__(
        self,
        *,
        method: AdaptiveMethod = AdaptiveMethod.HARD_LIMIT,
        dial_level: float = 1.0,
        maximum_level: float = 3.0,
        dropped_percentage: float = 3.0,
        intensity: float = 0.0,
        dl_diff_target: float = 0.0,
        available_only_ratio_tally: bool = False,
    ) -> None:
        if maximum_level < 1.0:
            raise ValueError("adaptive_maximum_level must be at least 1.0")
        if not -40 <= intensity <= 40:
            raise ValueError("adaptive_intensity must be within -40..40")
        self.method = method
        # Kept only to say which rule VICIdial aims at; it does not hold agents to it.
        self.cap = AbandonCap(round(dropped_percentage))
        self.dial_level = dial_level
        self.maximum_level = maximum_level
        self.dropped_percentage = dropped_percentage
        self.intensity = intensity
        self.dl_diff_target = dl_diff_target
        self.available_only_ratio_tally = available_only_ratio_tally
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=SAMPLES)
        self._next_sample: float | None = None
        self._next_level: float | None = None
        self._next_drops: float | None = None
        # Results in the last minute (time, dropped) and the figures of the last refresh.
        self._recent: deque[tuple[float, bool]] = deque()
        self._calls_one = 0
        self._drops_one = 0
        self._calls_today = 0
        self._answers_today = 0
        self._drops_today = 0
        self._resolved_today = 0
        self._answered_seen = 0
        self._dropped_seen = 0

    def on_result(self, result: CallResult) -> None:
        """Log the call in the day's log (``vicidial_log``): resolved calls and drops."""
        outcome = result.outcome
        if outcome in (Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED):
            self._resolved_today += 1
            self._recent.append((result.at, False))
            if outcome is Outcome.ANSWERED:
                self._answered_seen += 1
        elif outcome is Outcome.ABANDONED:
            self._dropped_seen += 1
            self._recent.append((result.at, True))

    def next_decision_at(self, now: float) -> float | None:
        """The auto-dial loop runs every second."""
        return math.floor(now / SAMPLE_EVERY_S) * SAMPLE_EVERY_S + SAMPLE_EVERY_S

    def calls_to_place(self, state: DialerState) -> int:
        """Sample, correct the level when due, then place goal − calls under way."""
        now = state.now
        if self._next_sample is None:
            self._next_sample = now
            self._next_level = now + LEVEL_EVERY_S
            self._next_drops = now
        assert self._next_level is not None and self._next_drops is not None
        while self._next_sample <= now:
            # The state has not changed since the last call: every second missed saw it.
            self._samples.append((state.free_agents, state.waiting, state.agents))
            self._next_sample += SAMPLE_EVERY_S
        if now >= self._next_drops:
            self._refresh_drops(now)
            self._next_drops = now + DROPS_EVERY_S
        if now >= self._next_level:
            self._correct_level(state)
            self._next_level = now + LEVEL_EVERY_S
        if state.remaining_s <= 0:
            return 0
        ready = state.free_agents
        counted = ready if self.available_only_ratio_tally else ready + state.talking_agents
        goal = round(self.dial_level * counted)
        under_way = state.ringing + state.waiting + state.talking_agents
        if self.available_only_ratio_tally:
            under_way = state.ringing + state.waiting
        return max(0, goal - under_way)

    def _refresh_drops(self, now: float) -> None:
        """``calculate_drops``: the last minute's and today's calls, answers and drops."""
        recent = self._recent
        while recent and recent[0][0] <= now - 60.0:
            recent.popleft()
        # A dropped call is one row of VICIdial's call log (status DROP), already counted
        # among the calls when it was answered.
        self._drops_one = sum(1 for _, dropped in recent if dropped)
        self._calls_one = len(recent) - self._drops_one
        self._calls_today = self._resolved_today
        self._answers_today = self._answered_seen
        self._drops_today = self._dropped_seen

    def _correct_level(self, state: DialerState) -> None:
        """``calculate_dial_level``: the differential, the intensity, the clamps, the drop rules."""
        samples = self._samples
        count = len(samples)
        ready_avg = sum(s[0] for s in samples) / count
        waiting_avg = sum(s[1] for s in samples) / count
        agents_avg = sum(s[2] for s in samples) / count
        if agents_avg <= 0:
            return  # VICIdial leaves the level alone with no agents
        target = ready_avg - waiting_avg + self.dl_diff_target
        correction = target / agents_avg * 100.0 if target != 0 else 0.0
        intensity = self.intensity / 100.0
        if correction < 0:
            correction *= abs(intensity - 1.0)
        else:
            correction *= intensity + 1.0
        level = self.dial_level * (correction / 100.0 + 1.0)
        level = min(level, self.maximum_level)
        level = max(level, 1.0)
        if self._calls_one > 20 and self._drops_one / self._calls_one * 100.0 > 50.0:
            level /= 2.0
        answers = max(1, self._answers_today)
        over = self._drops_today / answers * 100.0 > self.dropped_percentage
        if self._calls_today > 50 and self._drops_today > 0 and over:
            if self.method is AdaptiveMethod.HARD_LIMIT:
                level = 1.0
            elif self.method is AdaptiveMethod.AVERAGE:
                level /= 2.0
            else:
                minutes_left = state.remaining_s / 60.0
                if minutes_left < 0:
                    level = 1.0
                else:
                    hhmm_left = 100 * math.floor(minutes_left / 60.0) + minutes_left % 60.0
                    level *= 1.0 if hhmm_left > 1000 else hhmm_left / 1000.0
        self.dial_level = max(level, 1.0)
