"""Erlang C and Erlang A staffing: how many agents an interval needs on the phones.

A queue is offered ``calls`` contacts in an interval of ``interval_s`` seconds, each taking
``aht_s`` seconds of handling on average. The *load* is ``calls × aht_s ÷ interval_s`` Erlangs
(METRICS.md ``traffic_erlangs``). Two classic models turn a load and a number of agents into the
figures a planner promises (service level, average speed of answer, abandon rate, occupancy):

* **Erlang C** (M/M/n, callers never hang up): A. K. Erlang, "Solution of some problems in the
  theory of probabilities of significance in automatic telephone exchanges", *Elektroteknikeren*
  13 (1917); the waiting-time formulas as in Gross & Harris, *Fundamentals of Queueing Theory*,
  §2.3 (M/M/c).
* **Erlang A** (M/M/n+M, callers abandon after an exponential patience): C. Palm, "Research on
  telephone traffic carried by full availability groups", *Tele* 1 (1957); the closed forms used
  here are those of O. Garnett, A. Mandelbaum and M. Reiman, "Designing a call center with
  impatient customers", *Manufacturing & Service Operations Management* 4(3), 2002, and
  A. Mandelbaum and S. Zeltyn, "The Palm/Erlang-A queue, with applications to call centers"
  (Technion teaching note, 2005), written with the function
  ``A(x, y) = x·e^y·y^(−x)·γ(x, y) = ₁F₁(1; x+1; y)``.

Numerical stability: the textbook forms contain ``a^n / n!`` which overflows a double past
about 170 agents. Everything here is computed in log space from the regularised incomplete
gamma function (``P(X ≤ n) = Q(n+1, a)`` for a Poisson load), so the answers stay exact to
floating-point precision up to (and well beyond) 20,000 Erlangs, in constant time per agent
count; the staffing search is a bisection, so a 10,000-Erlang answer costs a few dozen special
function calls rather than the O(n²) recursion of spreadsheet implementations.

This module is pure: no I/O, no database, no clock.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy import integrate, special

Model = Literal["erlang_c", "erlang_a"]

# Below this a double's log would lose the value to underflow; we switch to another form.
_TINY = 1e-280
# Up to this many agents the O(n) recursion is faster than the O(1) special functions.
_RECURSION_AGENTS = 40


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """A service-level target: ``service_level`` of contacts answered within ``answer_within_s``.

    Optional caps add further requirements that must all hold.

    >>> ServiceTarget.parse("80/20")
    ServiceTarget(service_level=0.8, answer_within_s=20.0, max_occupancy=None, \
max_abandon_rate=None, max_asa_s=None)
    """

    service_level: float = 0.8
    answer_within_s: float = 20.0
    max_occupancy: float | None = None
    max_abandon_rate: float | None = None
    max_asa_s: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.service_level < 1.0:
            raise ValueError(f"service level must be between 0 and 1, got {self.service_level}")
        if self.answer_within_s < 0:
            raise ValueError("answer_within_s must not be negative")
        if self.max_occupancy is not None and not 0.0 < self.max_occupancy <= 1.0:
            raise ValueError("max_occupancy must be in (0, 1]")
        if self.max_abandon_rate is not None and not 0.0 < self.max_abandon_rate < 1.0:
            raise ValueError("max_abandon_rate must be in (0, 1)")

    @classmethod
    def parse(cls, text: str, **caps: float | None) -> ServiceTarget:
        """Read a target written the way planners say it: ``"80/20"`` or ``"99/5"``."""
        try:
            percent, seconds = text.split("/")
            return cls(service_level=float(percent) / 100.0, answer_within_s=float(seconds), **caps)
        except ValueError as exc:
            raise ValueError(
                f"target must look like 80/20 (percent/seconds), got {text!r}: {exc}"
            ) from exc


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """Expected figures of one interval for a given number of agents on the phones.

    ``service_level`` is the share of offered contacts answered within the target time
    (abandons count against it, as in METRICS.md ``service_level`` with no short-abandon
    allowance); ``asa_s`` is the mean wait of *answered* contacts; ``occupancy`` is carried
    load ÷ agents.
    """

    model: Model
    agents: int
    load_erlangs: float
    probability_of_wait: float
    service_level: float
    asa_s: float
    abandon_rate: float
    occupancy: float


@dataclass(frozen=True, slots=True)
class StaffingAnswer:
    """The staffing answer METRICS.md asks for: load, target, agents, shrinkage, outcomes."""

    model: Model
    calls: float
    aht_s: float
    interval_s: float
    patience_s: float | None
    load_erlangs: float
    target_service_level: float
    target_answer_within_s: float
    agents: int
    shrinkage: float
    scheduled_heads: int
    service_level: float
    asa_s: float
    abandon_rate: float
    occupancy: float
    probability_of_wait: float

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


# --------------------------------------------------------------------------- Erlang B / C


def log_erlang_b(agents: int, load: float) -> float:
    """Natural log of the Erlang B blocking probability ``B(n, a)``.

    ``B(n, a) = (aⁿ/n!) / Σ_{k≤n} aᵏ/k!`` = Poisson pmf ÷ Poisson cdf; both are taken in log
    space (``log pmf = n·ln a − a − ln n!``, ``cdf = Q(n+1, a)``), so nothing overflows.

    >>> round(math.exp(log_erlang_b(10, 8.0)), 6)
    0.121661
    """
    if agents < 0:
        raise ValueError("agents must not be negative")
    if load <= 0:
        return 0.0 if agents == 0 else -math.inf
    if agents == 0:
        return 0.0
    if agents <= _RECURSION_AGENTS:
        # Small groups: the recursion below is exact and cheaper than a special-function call.
        return _log(_erlang_b_recursion(agents, load))
    cdf = float(special.gammaincc(agents + 1, load))
    if cdf > _TINY:
        return agents * math.log(load) - load - float(special.gammaln(agents + 1)) - math.log(cdf)
    # Far fewer agents than the load: the cdf underflows; fall back to the recursion.
    return _log(_erlang_b_recursion(agents, load))


def _log(probability: float) -> float:
    """``log`` of a probability that may have underflowed to zero (a load of a few 1e-300
    Erlangs, as a forecast's quiet night can hold): minus infinity, not a domain error."""
    return math.log(probability) if probability > 0.0 else -math.inf


def _erlang_b_recursion(agents: int, load: float) -> float:
    """``B(k) = a·B(k−1) / (k + a·B(k−1))``, ``B(0) = 1``: stays in [0, 1], numerically stable
    (Jagerman, "Some properties of the Erlang loss function", Bell Syst. Tech. J. 53, 1974)."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: probability that all ``agents`` are busy in a loss system offered ``load``.

    >>> round(erlang_b(2, 1.0), 4)
    0.2
    """
    return math.exp(log_erlang_b(agents, load))


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: probability that a contact waits, ``C = n·B / (n − a·(1 − B))``.

    Returns 1.0 when the queue is unstable (``load ≥ agents``).

    >>> round(erlang_c(10, 8.0), 4)
    0.4092
    """
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_c_figures(
    *, agents: int, calls: float, aht_s: float, interval_s: float, answer_within_s: float
) -> QueueFigures:
    """Erlang C figures for ``agents`` on the phones (M/M/n, no abandonment).

    ``SL(t) = 1 − C·exp(−(n − a)·t / AHT)``, ``ASA = C·AHT / (n − a)``, occupancy ``a / n``.

    >>> f = erlang_c_figures(agents=11, calls=100, aht_s=180, interval_s=1800,
    ...                      answer_within_s=20)
    >>> round(f.service_level, 4), round(f.asa_s, 1)
    (0.3896, 122.8)
    """
    load = _load(calls, aht_s, interval_s)
    if load == 0:
        return QueueFigures("erlang_c", agents, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if agents <= load:
        # Unstable queue: the wait grows without bound for as long as the load lasts.
        return QueueFigures(
            model="erlang_c",
            agents=agents,
            load_erlangs=load,
            probability_of_wait=1.0,
            service_level=0.0,
            asa_s=math.inf,
            abandon_rate=0.0,
            occupancy=1.0,
        )
    wait = erlang_c(agents, load)
    return QueueFigures(
        model="erlang_c",
        agents=agents,
        load_erlangs=load,
        probability_of_wait=wait,
        service_level=max(0.0, 1.0 - wait * math.exp(-(agents - load) * answer_within_s / aht_s)),
        asa_s=wait * aht_s / (agents - load),
        abandon_rate=0.0,
        occupancy=load / agents,
    )


# --------------------------------------------------------------------------- Erlang A


def _log_a_function(x: float, y: float) -> float:
    """``ln A(x, y)`` with ``A(x, y) = x·e^y·y^(−x)·γ(x, y) = ₁F₁(1; x+1; y)`` (Mandelbaum–Zeltyn).

    Through the regularised gamma ``P(x, y)`` when it is representable, else through the
    hypergeometric series, which converges fast exactly where ``P`` underflows (``y ≪ x``).
    """
    if y <= 0:
        return 0.0
    lower = float(special.gammainc(x, y))
    if lower > 1e-200:
        return math.log(x) + y - x * math.log(y) + float(special.gammaln(x)) + math.log(lower)
    return math.log(float(special.hyp1f1(1.0, x + 1.0, y)))


@dataclass(frozen=True, slots=True)
class _ErlangA:
    """The parameters of one M/M/n+M evaluation in Mandelbaum–Zeltyn notation."""

    agents: int
    load: float  # a = λ/μ
    x: float  # n·μ/θ
    y: float  # λ/θ
    theta: float  # 1 / mean patience, per second
    log_a: float  # ln A(x, y)
    wait: float  # P(W > 0)

    @classmethod
    def build(cls, agents: int, load: float, aht_s: float, patience_s: float) -> _ErlangA:
        x = agents * patience_s / aht_s
        y = load * patience_s / aht_s
        log_a = _log_a_function(x, y)
        log_b = log_erlang_b(agents, load)
        # P(W>0) = A·B / (1 + (A−1)·B) = 1 / (1 + (1 − B) / (A·B)), kept in logs.
        blocking = math.exp(log_b)
        log_ratio = math.log1p(-blocking) - log_b - log_a if blocking < 1.0 else -math.inf
        wait = 1.0 / (1.0 + math.exp(log_ratio)) if log_ratio < 700 else 0.0
        return cls(agents, load, x, y, 1.0 / patience_s, log_a, wait)

    def served_given_wait(self) -> float:
        """P(served | W > 0) = (1/ρ)·(1 − 1/A), with 1/ρ = x / y."""
        return (self.x / self.y) * (1.0 - math.exp(-self.log_a))

    def served_late_given_wait(self, t: float) -> float:
        """P(served after waiting more than t | W > 0) = γ(x+1, z) / (y·γ(x, y)), z = y·e^(−θt)."""
        z = self.y * math.exp(-self.theta * t)
        log_term = (
            math.log(self.x / (self.x + 1.0))
            - (self.x + 1.0) * self.theta * t
            + self.y
            - z
            + _log_a_function(self.x + 1.0, z)
            - self.log_a
        )
        return math.exp(log_term) if log_term > -745 else 0.0

    def answered_within(self, t: float) -> float:
        """Share of offered contacts answered within ``t`` seconds.

        ``P(answered, 0 < W ≤ t | W > 0) = [γ(x+1, y) − γ(x+1, z)] / (y·γ(x, y))``; the
        difference is taken as ``1 − γ(x+1, z)/γ(x+1, y)`` through ``expm1`` so that short
        thresholds do not cancel catastrophically.
        """
        if self.agents == 0:
            return 0.0
        z = self.y * math.exp(-self.theta * t)
        log_ratio = (
            -(self.x + 1.0) * self.theta * t
            + self.y
            - z
            + _log_a_function(self.x + 1.0, z)
            - _log_a_function(self.x + 1.0, self.y)
        )
        within = -math.expm1(min(0.0, log_ratio))
        return (1.0 - self.wait) + self.wait * self.served_given_wait() * within

    def abandon_rate(self) -> float:
        """P(Ab) = P(W>0)·(1 − 1/ρ + 1/(ρ·A)) (Garnett–Mandelbaum–Reiman 2002, eq. 3.4)."""
        if self.agents == 0:
            return 1.0
        return min(1.0, max(0.0, self.wait * (1.0 - self.served_given_wait())))


def erlang_a_figures(
    *,
    agents: int,
    calls: float,
    aht_s: float,
    interval_s: float,
    patience_s: float,
    answer_within_s: float,
) -> QueueFigures:
    """Erlang A figures for ``agents`` on the phones (M/M/n+M, mean patience ``patience_s``).

    The queue is stable for any number of agents because callers leave. ASA (mean wait of
    answered contacts) is ``∫₀^∞ P(answered, W > s) ds ÷ P(answered)``, integrated numerically
    from the closed-form distribution.

    >>> f = erlang_a_figures(agents=10, calls=100, aht_s=180, interval_s=1800,
    ...                      patience_s=120, answer_within_s=20)
    >>> round(f.service_level, 4), round(f.abandon_rate, 4)
    (0.6399, 0.1375)
    """
    if patience_s <= 0:
        raise ValueError("patience_s must be positive")
    load = _load(calls, aht_s, interval_s)
    if load <= 0:
        return QueueFigures("erlang_a", agents, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if agents == 0:
        return QueueFigures("erlang_a", 0, load, 1.0, 0.0, 0.0, 1.0, 0.0)
    queue = _ErlangA.build(agents, load, aht_s, patience_s)
    abandon = queue.abandon_rate()
    answered = 1.0 - abandon
    asa = _erlang_a_asa(queue, answered) if answered > 0 else math.inf
    return QueueFigures(
        model="erlang_a",
        agents=agents,
        load_erlangs=load,
        probability_of_wait=queue.wait,
        service_level=queue.answered_within(answer_within_s),
        asa_s=asa,
        abandon_rate=abandon,
        occupancy=min(1.0, load * answered / agents),
    )


def _erlang_a_asa(queue: _ErlangA, answered: float) -> float:
    if queue.wait <= 0:
        return 0.0

    def answered_after(s: float) -> float:
        return queue.wait * queue.served_late_given_wait(s)

    # P(answered after s) is a survival curve: integrate it up to where it has died out
    # (found by doubling from the natural time scale), so quad never sees an infinite range.
    start = answered_after(0.0)
    end = 1.0 / max(queue.theta, (queue.x - queue.y) * queue.theta)
    while answered_after(end) > 1e-13 * start:
        end *= 2.0
    with warnings.catch_warnings():
        # With patience thousands of times the AHT the incomplete gammas carry ~1e-10 noise
        # and quad says so; the integral is still good to that noise, which is what we need.
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        total, _ = integrate.quad(answered_after, 0.0, end, limit=400, epsrel=1e-9)
    return float(total) / answered


# --------------------------------------------------------------------------- staffing


def queue_figures(
    *,
    agents: int,
    calls: float,
    aht_s: float,
    interval_s: float,
    answer_within_s: float,
    patience_s: float | None = None,
) -> QueueFigures:
    """Figures for ``agents`` on the phones: Erlang A when ``patience_s`` is given, else C."""
    if patience_s is None:
        return erlang_c_figures(
            agents=agents,
            calls=calls,
            aht_s=aht_s,
            interval_s=interval_s,
            answer_within_s=answer_within_s,
        )
    return erlang_a_figures(
        agents=agents,
        calls=calls,
        aht_s=aht_s,
        interval_s=interval_s,
        patience_s=patience_s,
        answer_within_s=answer_within_s,
    )


def required_agents(
    *,
    calls: float,
    aht_s: float,
    interval_s: float,
    target: ServiceTarget,
    patience_s: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingAnswer:
    """Fewest agents on the phones that meet ``target``, and the heads to schedule.

    Service level rises with agents in both models, so the smallest agent count meeting it is
    found by bisection. The occupancy cap then raises agents to ``⌈a ÷ max_occupancy⌉`` if
    needed; scheduled heads are ``⌈agents ÷ (1 − shrinkage)⌉`` (METRICS.md "Staffing").

    >>> answer = required_agents(calls=1000, aht_s=180, interval_s=1800,
    ...                          target=ServiceTarget.parse("80/20"), shrinkage=0.3)
    >>> answer.load_erlangs, answer.agents, answer.scheduled_heads
    (100.0, 107, 153)
    """
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError("shrinkage must be in [0, 1)")
    load = _load(calls, aht_s, interval_s)

    def figures(agents: int) -> QueueFigures:
        return queue_figures(
            agents=agents,
            calls=calls,
            aht_s=aht_s,
            interval_s=interval_s,
            answer_within_s=target.answer_within_s,
            patience_s=patience_s,
        )

    def meets(agents: int) -> bool:
        if patience_s is None and target.max_asa_s is None and target.max_abandon_rate is None:
            # The common Erlang C question, inlined: the search evaluates it a dozen times.
            if agents <= load:
                return False
            wait = erlang_c(agents, load)
            reach = math.exp(-(agents - load) * target.answer_within_s / aht_s)
            return 1.0 - wait * reach >= target.service_level
        f = figures(agents)
        if f.service_level < target.service_level:
            return False
        if target.max_abandon_rate is not None and f.abandon_rate > target.max_abandon_rate:
            return False
        return target.max_asa_s is None or f.asa_s <= target.max_asa_s

    if load <= 0:
        agents = 0
    else:
        # Erlang C needs more agents than Erlangs; Erlang A may need fewer.
        low = math.floor(load) if patience_s is None else 0
        high = max(low + 1, math.ceil(load + 3.0 * math.sqrt(load) + 5.0))
        while not meets(high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if meets(middle):
                high = middle
            else:
                low = middle
        agents = high
        if target.max_occupancy is not None:
            agents = max(agents, math.ceil(load / target.max_occupancy - 1e-9))
    final = figures(agents)
    return StaffingAnswer(
        model=final.model,
        calls=calls,
        aht_s=aht_s,
        interval_s=interval_s,
        patience_s=patience_s,
        load_erlangs=load,
        target_service_level=target.service_level,
        target_answer_within_s=target.answer_within_s,
        agents=agents,
        shrinkage=shrinkage,
        scheduled_heads=math.ceil(agents / (1.0 - shrinkage) - 1e-9),
        service_level=final.service_level,
        asa_s=final.asa_s,
        abandon_rate=final.abandon_rate,
        occupancy=final.occupancy,
        probability_of_wait=final.probability_of_wait,
    )


def _load(calls: float, aht_s: float, interval_s: float) -> float:
    if calls < 0:
        raise ValueError("calls must not be negative")
    if aht_s <= 0 or interval_s <= 0:
        raise ValueError("aht_s and interval_s must be positive")
    return calls * aht_s / interval_s
