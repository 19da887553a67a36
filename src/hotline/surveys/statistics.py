"""Survey figures with their uncertainty: CSAT, DSAT, NPS, resolution, response rates, drivers.

Every survey answer, whatever asked it — the IVR after a call (DTMF), web chat at its end, the
public survey page — is a ``survey_answered`` event in the contact event log, next to the
contact's other events, so one answer carries the contact's channel, queue and agent. This
module turns those events into :class:`Response` records (the agent's team from the center
file, the product from the survey link) and computes, per queue, team, agent, product or
channel (METRICS.md, "Experience and quality"):

* ``csat`` — share of overall answers 4 or 5 on 1–5 (top-2-box); ``dsat`` — share of 1
  (bottom box); ``resolved`` — share of "yes"; each with its **Wilson score interval**
  (scipy's ``binomtest(...).proportion_ci(method="wilson")``);
* ``nps`` — % promoters (9–10) − % detractors (0–6), in points, with a normal interval on the
  mean of the per-answer score u ∈ {+1, 0, −1}: Var(u) = p₊ + p₋ − (p₊ − p₋)², so
  NPS ± z·100·√(Var(u)/n). When every answer is the same the interval has no width: read it
  with ``n``, which is always given;
* response rates per channel: contacts an agent handled, and how many of them answered;
* the **importance–performance** matrix: for each other question (attribute ratings,
  resolved yes/no), importance = Pearson correlation with the overall CSAT answer across the
  responses that have both, performance = its mean on a 0–1 scale;
* QA against CSAT: each agent's mean QA score beside their mean overall CSAT answer, and the
  Pearson correlation across agents.

Pure: no I/O. Example::

    >>> responses = [
    ...     Response("c1", 0.0, "voice", "repair", "a1", "t1", None, {"overall": 5}, overall=5),
    ...     Response("c2", 1.0, "voice", "repair", "a1", "t1", None, {"overall": 1}, overall=1)]
    >>> [(g.group, g.csat.share, g.dsat.share) for g in group_figures(responses, by="queue")]
    [('repair', 0.5, 0.5)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from scipy.stats import binomtest

from hotline.config.surveys import SurveyDefinition
from hotline.core.events import Event, EventKind

Dimension = Literal["queue", "team", "agent", "product", "channel"]
DIMENSIONS: tuple[Dimension, ...] = ("queue", "team", "agent", "product", "channel")
#: What a response says when the contact had no such attribute (an IVR caller has no product).
UNKNOWN = "unknown"

Answer = int | bool | str


@dataclass(frozen=True)
class Response:
    """One customer's answers to one survey about one contact."""

    contact_id: str
    at: float
    channel: str | None
    queue: str | None
    agent: str | None
    team: str | None
    product: str | None
    #: answers by question id; the overall CSAT is ``overall`` when the survey has no definition
    answers: Mapping[str, Answer]
    survey: str | None = None
    overall: int | None = None
    nps: int | None = None
    resolved: bool | None = None
    comments: tuple[str, ...] = ()

    def value(self, dimension: Dimension) -> str:
        """The response's queue, team, agent, product or channel (``unknown`` if it has none)."""
        found: str | None = getattr(self, dimension)
        return found or UNKNOWN


@dataclass(frozen=True)
class Proportion:
    """A share with its confidence interval; ``share`` is ``None`` when nobody answered."""

    share: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class NetPromoter:
    """NPS in points (−100..100) with its confidence interval, from ``n`` 0–10 answers."""

    score: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class GroupFigures:
    """CSAT, DSAT, NPS and resolution of one queue, team, agent, product or channel."""

    group: str
    responses: int
    csat: Proportion
    dsat: Proportion
    nps: NetPromoter
    resolved: Proportion


@dataclass(frozen=True)
class ResponseRate:
    """Of the contacts an agent handled on a channel, how many answered a survey."""

    channel: str
    contacts: int
    responses: int
    rate: Proportion


@dataclass(frozen=True)
class Driver:
    """One answer's place in the importance–performance matrix."""

    question: str
    kind: str
    #: Pearson r with the overall CSAT answer
    importance: float | None
    #: mean on a 0–1 scale
    performance: float | None
    n: int


# --------------------------------------------------------------------------- reading events


def responses_from_events(
    events: Iterable[Event],
    *,
    teams: Mapping[str, str],
    definitions: Sequence[SurveyDefinition] = (),
) -> list[Response]:
    """The survey responses among ``events``, the agent's team looked up in ``teams``.

    A response from the survey page is one event holding every answer (``answers``); its NPS
    answers are also events of their own (so METRICS.md's NPS counts them), which are skipped
    here. The IVR's and chat's single CSAT answer (``score`` of ``scale_max`` 5) becomes a
    response with just ``overall``; a lone 0–10 answer one with just an NPS.
    """
    by_id = {d.id: d for d in definitions}
    found: list[Response] = []
    for event in events:
        if event.kind is not EventKind.SURVEY_ANSWERED or event.contact_id is None:
            continue
        data = event.data
        answers: dict[str, Answer]
        if "answers" in data:
            answers = dict(data["answers"])
        elif "response" in data:
            continue  # a page response's NPS event: its answers are on the response's event
        elif "score" in data:
            key = "nps" if int(data.get("scale_max", 5)) >= 10 else "overall"
            answers = {key: int(data["score"])}
        else:
            continue
        survey = data.get("survey")
        definition = by_id.get(str(survey)) if survey is not None else None
        found.append(_response(event, answers, definition, teams, str(survey) if survey else None))
    return found


def _response(
    event: Event,
    answers: dict[str, Answer],
    definition: SurveyDefinition | None,
    teams: Mapping[str, str],
    survey: str | None,
) -> Response:
    overall_id = "overall"
    nps: Any = answers.get("nps")
    resolved: Any = None
    comments: list[str] = []
    if definition is not None:
        overall_id = definition.overall_question() or overall_id
        for question in definition.questions:
            answer = answers.get(question.id)
            if answer is None:
                continue
            if question.kind == "nps" and nps is None:
                nps = answer
            elif question.kind == "resolved" and resolved is None:
                resolved = answer
            elif question.kind == "text" and str(answer).strip():
                comments.append(str(answer).strip())
    overall: Any = answers.get(overall_id)
    agent = event.agent_id
    return Response(
        contact_id=str(event.contact_id),
        at=event.at,
        channel=event.channel.value if event.channel else None,
        queue=event.queue,
        agent=agent,
        team=teams.get(agent) if agent else None,
        product=event.data.get("product"),
        answers=answers,
        survey=survey,
        overall=int(overall) if isinstance(overall, int) else None,
        nps=int(nps) if isinstance(nps, int) and not isinstance(nps, bool) else None,
        resolved=resolved if isinstance(resolved, bool) else None,
        comments=tuple(comments),
    )


# --------------------------------------------------------------------------- intervals


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """``successes`` out of ``n`` with its Wilson score interval.

    >>> p = proportion(45, 50)
    >>> p.share, round(p.low, 4), round(p.high, 4)
    (0.9, 0.7864, 0.9565)
    >>> proportion(0, 0)
    Proportion(share=None, low=None, high=None, n=0)
    """
    if n == 0:
        return Proportion(None, None, None, 0)
    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(successes / n, float(interval.low), float(interval.high), n)


def net_promoter(scores: Sequence[int], confidence: float = 0.95) -> NetPromoter:
    """NPS of 0–10 ``scores`` with the normal interval of the −1/0/+1 score's mean.

    >>> nps = net_promoter([10, 9, 8, 3])  # 2 promoters, 1 passive, 1 detractor
    >>> nps.score, round(nps.low, 1), round(nps.high, 1)
    (25.0, -56.3, 100.0)
    """
    n = len(scores)
    if n == 0:
        return NetPromoter(None, None, None, 0)
    promoters = sum(1 for s in scores if s >= 9) / n
    detractors = sum(1 for s in scores if s <= 6) / n
    mean = promoters - detractors
    variance = promoters + detractors - mean * mean
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(max(variance, 0.0) / n)
    return NetPromoter(
        100.0 * mean, max(-100.0, 100.0 * (mean - half)), min(100.0, 100.0 * (mean + half)), n
    )


# --------------------------------------------------------------------------- figures


def figures(responses: Sequence[Response], confidence: float = 0.95) -> GroupFigures:
    """CSAT, DSAT, NPS and resolution over all ``responses``."""
    overall = [r.overall for r in responses if r.overall is not None]
    resolved = [r.resolved for r in responses if r.resolved is not None]
    return GroupFigures(
        group="all",
        responses=len(responses),
        csat=proportion(sum(1 for s in overall if s >= 4), len(overall), confidence),
        dsat=proportion(sum(1 for s in overall if s <= 1), len(overall), confidence),
        nps=net_promoter([r.nps for r in responses if r.nps is not None], confidence),
        resolved=proportion(sum(resolved), len(resolved), confidence),
    )


def group_figures(
    responses: Iterable[Response], *, by: Dimension, confidence: float = 0.95
) -> list[GroupFigures]:
    """:func:`figures` per queue, team, agent, product or channel, groups in name order."""
    if by not in DIMENSIONS:
        raise ValueError(f"cannot group survey responses by {by!r}; choose {', '.join(DIMENSIONS)}")
    groups: dict[str, list[Response]] = {}
    for response in responses:
        groups.setdefault(response.value(by), []).append(response)
    out = []
    for name in sorted(groups):
        whole = figures(groups[name], confidence)
        out.append(
            GroupFigures(name, whole.responses, whole.csat, whole.dsat, whole.nps, whole.resolved)
        )
    return out


def response_rates(
    handled: Mapping[str, set[str]], responses: Iterable[Response], confidence: float = 0.95
) -> list[ResponseRate]:
    """Per channel: contacts handled (``handled[channel]``: their ids) and how many answered.

    >>> r = Response("c1", 0.0, "chat", None, None, None, None, {"overall": 4})
    >>> [(x.channel, x.contacts, x.responses, x.rate.share)
    ...  for x in response_rates({"chat": {"c1", "c2"}, "voice": {"v1"}}, [r])]
    [('chat', 2, 1, 0.5), ('voice', 1, 0, 0.0)]
    """
    answered: dict[str, set[str]] = {}
    for response in responses:
        answered.setdefault(response.channel or UNKNOWN, set()).add(response.contact_id)
    rates = []
    for channel in sorted(set(handled) | set(answered)):
        contacts = handled.get(channel, set())
        # A contact answered but not seen handled (imported, or out of the period) counts too.
        respondents = answered.get(channel, set())
        base = contacts | respondents
        rates.append(
            ResponseRate(
                channel,
                len(base),
                len(respondents),
                proportion(len(respondents), len(base), confidence),
            )
        )
    return rates


#: The response-rate row of the links sent by one carrier: ``link:email``, ``link:sms``.
LINK_ROW = "link:{via}"


def link_rates(
    invitations: Iterable[tuple[str, bool]], confidence: float = 0.95
) -> list[ResponseRate]:
    """Per carrier of survey links (``email``, ``sms``): links sent and how many answered.

    ``invitations`` holds each link's carrier and whether it was answered. A link answers for
    a contact on some channel, so its response is counted there too; these rows say which
    carrier brings the answers back.

    >>> [(r.channel, r.contacts, r.responses, r.rate.share) for r in
    ...  link_rates([("sms", True), ("email", False), ("sms", False), ("email", False)])]
    [('link:email', 2, 0, 0.0), ('link:sms', 2, 1, 0.5)]
    """
    sent: dict[str, int] = {}
    answered: dict[str, int] = {}
    for via, used in invitations:
        sent[via] = sent.get(via, 0) + 1
        answered[via] = answered.get(via, 0) + int(used)
    return [
        ResponseRate(
            LINK_ROW.format(via=via),
            sent[via],
            answered[via],
            proportion(answered[via], sent[via], confidence),
        )
        for via in sorted(sent)
    ]


# --------------------------------------------------------------------------- drivers


def drivers(responses: Sequence[Response], definition: SurveyDefinition) -> list[Driver]:
    """The importance–performance matrix of ``definition``'s questions other than the overall.

    Ratings (CSAT, NPS) are put on 0–1 by their scale and "resolved" counts 1 for yes.
    Importance is the Pearson correlation with the overall CSAT answer over the responses
    that have both (``None`` under 3 such responses or when either side never varies).

    >>> from hotline.config.surveys import SurveyQuestion as Q
    >>> d = SurveyDefinition(id="s", name="s", questions=[
    ...     Q(id="overall", kind="csat", text={"zh-CN": "总体", "en": "overall"}),
    ...     Q(id="speed", kind="csat", text={"zh-CN": "速度", "en": "speed"})])
    >>> rs = [Response(f"c{i}", 0.0, None, None, None, None, None, {"overall": o, "speed": s})
    ...       for i, (o, s) in enumerate([(5, 5), (4, 4), (2, 1), (1, 2)])]
    >>> [(x.question, round(x.importance, 2), x.performance) for x in drivers(rs, d)]
    [('speed', 0.9, 0.5)]
    """
    overall_id = definition.overall_question()
    out = []
    for question in definition.questions:
        if question.id == overall_id or question.kind == "text":
            continue
        pairs = []
        for response in responses:
            answer = response.answers.get(question.id)
            overall = response.answers.get(overall_id) if overall_id else None
            value = _unit(question.kind, answer)
            if value is not None and isinstance(overall, int) and not isinstance(overall, bool):
                pairs.append((value, float(overall)))
        values = [v for v, _ in pairs]
        out.append(
            Driver(
                question.id,
                question.kind,
                _correlation(pairs),
                sum(values) / len(values) if values else None,
                len(pairs),
            )
        )
    return out


def _unit(kind: str, answer: Answer | None) -> float | None:
    if answer is None:
        return None
    if kind == "resolved":
        return 1.0 if answer is True else 0.0
    if isinstance(answer, bool) or not isinstance(answer, int):
        return None
    low, high = (1, 5) if kind == "csat" else (0, 10)
    return (answer - low) / (high - low)


def _correlation(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 3:
        return None
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# --------------------------------------------------------------------------- QA and CSAT


@dataclass(frozen=True)
class AgentQuality:
    """One agent's mean QA score beside the mean overall CSAT answer customers gave them."""

    agent: str
    evaluations: int
    qa_mean: float
    answers: int
    csat_mean: float


@dataclass(frozen=True)
class QaVersusCsat:
    """Does the QA score agree with the customers? Pearson r across agents (``None`` under 3
    agents with both figures, or when either never varies)."""

    agents: tuple[AgentQuality, ...]
    correlation: float | None


def qa_versus_csat(
    qa_scores: Mapping[str, Sequence[float]], responses: Iterable[Response]
) -> QaVersusCsat:
    """Each agent's mean QA score (0–100) beside their mean overall CSAT (1–5), and the
    correlation across the agents who have both.

    >>> rs = [Response(f"c{i}", 0.0, None, None, a, None, None, {}, overall=o)
    ...       for i, (a, o) in enumerate([("a1", 5), ("a2", 3), ("a3", 1), ("a4", 4)])]
    >>> found = qa_versus_csat({"a1": [95.0], "a2": [80.0], "a3": [60.0]}, rs)
    >>> [a.agent for a in found.agents], round(found.correlation, 3)
    (['a1', 'a2', 'a3'], 0.997)
    """
    overall: dict[str, list[int]] = {}
    for response in responses:
        if response.agent is not None and response.overall is not None:
            overall.setdefault(response.agent, []).append(response.overall)
    agents = tuple(
        AgentQuality(
            agent,
            len(scores),
            sum(scores) / len(scores),
            len(overall[agent]),
            sum(overall[agent]) / len(overall[agent]),
        )
        for agent, scores in sorted(qa_scores.items())
        if scores and agent in overall
    )
    return QaVersusCsat(agents, _correlation([(a.qa_mean, a.csat_mean) for a in agents]))
