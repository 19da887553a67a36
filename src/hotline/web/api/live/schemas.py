"""What the live routes answer: typed response models, so ``/docs`` documents every answer.

The JSON is the one the live driver and the desk compositions build (the models describe it,
they do not reshape it): field order, ``null`` values and numbers as given. A number that the
engine or the center file may give as an integer (a default of ``5`` seconds) is a
:data:`Number` and stays ``5`` in the JSON; counts are integers, clock times are floats.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

#: A figure kept as given: an integer stays an integer in the JSON, a fraction a fraction.
Number = int | float


# --------------------------------------------------------------------------- commands


class CommandApplied(BaseModel):
    """A desk action the routing engine (or the phone call) carried out.

    ``events`` are the kinds of the contact events it produced; ``phone`` is present (``true``)
    only when the action went to the SIP call, which tells the engine in its own time;
    ``accepted`` only when it went to the partition's owner through the inbox.
    """

    ok: bool
    events: list[str]
    phone: bool | None = Field(default=None, exclude_if=lambda value: value is None)
    #: On a web node without the engine (``hotline serve --web-only``): the partition inbox
    #: row that carries the action to the owner; ``events`` is empty, and what the action
    #: did arrives on the live stream.
    accepted: int | None = Field(default=None, exclude_if=lambda value: value is None)


class PromisedCallback(BaseModel):
    """A call back an agent promised; a callback contact is queued at ``due_at``."""

    callback_id: str
    queue: str
    due_at: float
    customer: str | None
    requested_by: str
    note: str
    for_contact: str | None
    #: On a web node without the engine: the partition inbox row that carries it to the owner.
    accepted: int | None = Field(default=None, exclude_if=lambda value: value is None)


class DialedCall(BaseModel):
    """A click-to-dial call being placed: the agent's phone rings first."""

    contact_id: str
    agent_id: str
    number: str


class EmergencySetting(BaseModel):
    """The emergency announcement played to every new caller (``null``: off)."""

    emergency_prompt: str | None


class PlacedContact(BaseModel):
    """A contact queued by hand."""

    contact_id: str
    queue: str
    #: On a web node without the engine: the partition inbox row that carries it to the owner.
    accepted: int | None = Field(default=None, exclude_if=lambda value: value is None)


# --------------------------------------------------------------------------- the desktop


class DeskOffer(BaseModel):
    """The contact ringing at the agent, with its attached data (the screen pop's fallback)."""

    type: Literal["offer"]
    contact_id: str
    agent_id: str
    queue: str | None
    channel: str
    kind: str
    offered_at: float
    ring_timeout_s: Number
    attached: dict[str, Any]


class DeskContact(BaseModel):
    """A contact in the agent's hands: ringing, talking or in wrap-up."""

    contact_id: str
    stage: str
    queue: str | None
    on_hold: bool
    consulting: str | None
    wrap_until: float | None
    attached: dict[str, Any]


class DeskCoached(BaseModel):
    """A supervisor whispering to the agent or barging in on their call, now (ChanSpy's
    listen is silent to the agent, so never shown)."""

    contact_id: str
    mode: Literal["whisper", "barge"]
    supervisor: str


class AgentDesk(BaseModel):
    """One agent's desktop: state and reason, contacts in hand, the ringing offer, call backs,
    and whether a supervisor is coaching them now (``coached``)."""

    agent_id: str
    now: float
    state: str
    reason: str | None
    since: float | None
    contacts: list[DeskContact]
    offer: DeskOffer | None
    callbacks: list[PromisedCallback]
    coached: DeskCoached | None = None


# --------------------------------------------------------------------------- screen pop


class PopCustomer(BaseModel):
    """A customer the calling number belongs to (the name masked for roles without it)."""

    id: int
    name: str
    vip_level: int
    site: str | None


class PopProduct(BaseModel):
    """A product of one of those customers."""

    id: int
    customer_id: int
    model: str
    serial_number: str | None
    warranty_until: str | None


class PopContact(BaseModel):
    """One of the customers' last contacts on any channel, newest first: its queue and
    outcome (null for one recorded by hand) and ``link``, the address of its transcript,
    e-mail thread or recordings where this reader's role may open it."""

    at: str
    channel: str
    direction: str
    contact_id: str | None = None
    agent_id: str | None
    queue: str | None = None
    outcome: str | None = None
    summary: str
    link: str | None = None


class PopTicket(BaseModel):
    """An open ticket of those customers that this agent may open."""

    id: int
    number: str
    type: str
    state: str
    subject: str
    due_at: str | None
    queue: str
    assignee: str | None


class PopIdentity(BaseModel):
    """A chat's or a WeChat follower's channel identity and the customer an agent linked it to.

    ``kind``: ``wechat`` (the follower's openid), ``email`` or ``phone`` (what a web chat's
    visitor gave), ``chat_login`` (their id on the company's site, where they were signed
    in); ``shown`` is masked for roles without personal data; ``customer_id`` is ``null``
    while it is linked to nobody. ``verified``: how the visitor proved the identity in this
    chat — ``login`` (the site's signed token) or ``code`` (a one-time code) — or ``null``
    (what they typed). ``matched``: who made the link — ``agent``, or the customer's own
    ``login`` or ``code`` (in this chat or an earlier one); ``null`` while linked to nobody.
    """

    kind: Literal["wechat", "email", "phone", "chat_login"]
    shown: str
    customer_id: int | None
    verified: Literal["login", "code"] | None = None
    matched: Literal["agent", "login", "code"] | None = None


class PopChatMessage(BaseModel):
    """One message of the chat a callback was asked for in (the same case)."""

    seq: int
    at: float
    sender: str
    kind: str
    body: str


class ScreenPop(BaseModel):
    """What the desktop shows for a contact: its attached data and the customer behind it.

    ``identity`` is present for chats and WeChat followers whose identity can be linked to a
    customer from the desk; ``case_chat`` for a callback asked for in a chat: that chat's
    transcript (one case, moved from chat to a call).
    """

    contact_id: str
    attached: dict[str, Any]
    customers: list[PopCustomer]
    products: list[PopProduct]
    last_contacts: list[PopContact]
    open_tickets: list[PopTicket]
    identity: PopIdentity | None = None
    case_chat: list[PopChatMessage] | None = None


class KnowledgeHit(BaseModel):
    """A published knowledge article matching the desktop's search."""

    article_id: int
    title: str
    score: float
    version: int


class DeskTicket(BaseModel):
    """A ticket opened from the desktop, as the service desk keeps it."""

    id: int
    number: str
    type: str
    category: str
    priority: str
    state: str
    subject: str
    description: str
    customer_id: int | None
    product_id: int | None
    queue: str
    assignee: str | None
    provider_id: int | None
    warranty: bool
    complaint_level: str | None
    acknowledged: list[str]
    claim_status: str
    custom_fields: dict[str, Any]
    created_at: str
    due_at: str | None
    first_response_at: str | None
    resolved_at: str | None
    closed_at: str | None


# --------------------------------------------------------------------------- the wallboard


class QueueTarget(BaseModel):
    """A queue's service-level target and the thresholds its figures use."""

    service_level: Number
    threshold_s: Number
    short_abandon_s: Number
    variant: str


class QueueFigures(BaseModel):
    """A queue's figures for today or the current interval (METRICS.md definitions)."""

    offered: int | None
    answered: int | None
    abandoned: int | None
    interrupted: int | None
    service_level: float | None
    asa_s: float | None
    abandon_rate: float | None
    aht_s: float | None


class QueueTile(BaseModel):
    """One queue on the wallboard: waiting now, agents by state, figures, status colour."""

    id: str
    name: str
    channel: str
    target: QueueTarget
    waiting: int
    longest_wait_s: Number
    agents_logged_in: int
    agents_available: int
    agents_by_state: dict[str, int]
    today: QueueFigures
    interval: QueueFigures
    status: Literal["idle", "good", "warn", "bad"]


class AgentRow(BaseModel):
    """One agent on the wallboard: state, reason, time in state, the contact in hand."""

    id: str
    name: str
    team: str
    state: str
    reason: str | None
    since: float
    contact: str | None
    contact_stage: str | None
    contact_queue: str | None
    contacts: int


class BoardTotals(BaseModel):
    """The whole center at a glance."""

    waiting: int
    longest_wait_s: Number
    offered_today: int
    answered_today: int
    abandoned_today: int
    agents_by_state: dict[str, int]
    agents_logged_in: int


class BoardAlert(BaseModel):
    """Something a supervisor should look at (``code``: sl_below_target, long_wait,
    no_agents), with the value that raised it and its target."""

    level: Literal["warn", "bad"]
    queue: str
    code: str
    value: Number
    target: Number | None


class SiteFigures(BaseModel):
    """A site's contacts today: offered, answered, and the service level (each contact
    under its queue's headline variant)."""

    offered: int | None
    answered: int | None
    service_level: float | None


class SiteTile(BaseModel):
    """One site on the wallboard's site map: its queues, its agents by state (an agent's own
    site, else its team's), contacts waiting in its queues, the longest wait, today."""

    id: str
    name: str
    queues: list[str]
    agents_by_state: dict[str, int]
    agents_logged_in: int
    waiting: int
    longest_wait_s: Number
    today: SiteFigures
    status: Literal["idle", "good", "warn", "bad"]


class CrisisView(BaseModel):
    """Crisis mode (应急模式) now: whether the center file defines one (``available``), whether
    it is on, since when, who switched it (a user, or ``rule``), from where (``supervisor``
    or ``rule``) and why; the front announcement and, while on, the queues it closes."""

    available: bool
    on: bool
    since: float | None
    by: str | None
    source: Literal["supervisor", "rule"] | None
    reason: str | None
    announcement: str | None
    closed_queues: list[str]
    #: On a web node without the engine: the partition inbox row that carries it to the owner.
    accepted: int | None = Field(default=None, exclude_if=lambda value: value is None)


class WallboardView(BaseModel):
    """The wallboard (实时大屏): queues and agents now, today's and this interval's figures,
    and the site map (a tile per site of the center file; none without sites)."""

    type: Literal["wallboard"]
    now: float
    local_time: str
    interval_minutes: int
    interval_start: str
    queues: list[QueueTile]
    agents: list[AgentRow]
    sites: list[SiteTile]
    totals: BoardTotals
    alerts: list[BoardAlert]
    crisis: CrisisView
