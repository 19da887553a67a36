"""Who a web chat visitor is, proved rather than typed: a login token or a one-time code.

A visitor's pre-chat form is what they typed. Two things prove more:

* **Chat login** — the company's site, where the customer is signed in, hands the widget a
  token signed with the center's chat login secret (:mod:`hotline.channels.chat.login`). A
  genuine one names the customer's id on the site: the chat's customer key becomes
  ``chatlogin:<id>``, whose ``chat_login`` identity pops the customer it is linked to. The
  first time, the identity is linked to the one customer on file with the token's e-mail
  address or number (none, or several: it stays unlinked and the agent matches it as for any
  chat). A forged, expired or unreadable token is logged and the chat goes on anonymous.
* **One-time code** — in the chat, the visitor asks to verify an e-mail address or mobile
  number: a 6-digit code goes there (the e-mail outbox; the SMS gateway, with its do-not-call
  and quiet-hours rules) and only its hash is kept (:mod:`hotline.channels.chat.codes`). The
  right code makes the address the chat's customer key, linked to the one customer on file
  with it where it was linked to nobody.

Composed here, above the chat, e-mail, SMS and CRM domains, which know nothing of each other.
The desk shows how the visitor was identified: by login, by code, or matched by the agent.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.channels.chat import service as chat
from hotline.channels.chat.codes import MAX_ATTEMPTS, SENDS_PER_HOUR, check, issue, new_code
from hotline.channels.chat.login import ChatLogin, LoginRefused, read_login
from hotline.channels.email import service as mail
from hotline.channels.email.credentials import CredentialError
from hotline.channels.sms import service as sms
from hotline.core.errors import Conflict
from hotline.crm import service as crm
from hotline.crm.phones import PhoneKind, try_normalize
from hotline.crm.privacy import mask_email, mask_phone

log = logging.getLogger(__name__)

#: The audit actor of links the visitor proved (the agent's links carry their username).
LOGIN_ACTOR = "chat-login"
CODE_ACTOR = "chat-code"

#: The code's words, by the chat's language.
WORDS = {
    "zh-CN": {
        "subject": "您的验证码",
        "text": "您的在线客服验证码是 {code}，10 分钟内有效。如非本人操作，请忽略。",
    },
    "en": {
        "subject": "Your verification code",
        "text": "Your chat verification code is {code}. It is valid for 10 minutes. "
        "If you did not ask for it, ignore this message.",
    },
}


@dataclass(frozen=True)
class NotSent:
    """A code the SMS rules refused to text (do-not-call list, quiet hours): why. The refused
    SMS stays in the SMS log; no code is kept."""

    reason: str


@dataclass(frozen=True)
class Identified:
    """A chat's proved identity: its customer key and the customer it pops (``None``: the
    identity is linked to nobody yet)."""

    key: str
    customer_id: int | None


def identify_login(
    session: Session, *, token: str, server_secret: bytes, now: float
) -> Identified | LoginRefused:
    """The chat's identity from the site's login token, or why the token names nobody."""
    try:
        secret = chat.login_secret(session=session, server_secret=server_secret)
    except CredentialError:
        return LoginRefused("not configured")
    login = read_login(token, secret=secret, now=now)
    if isinstance(login, LoginRefused):
        return login
    identity = crm.Identity("chat_login", login.external_id)
    linked = crm.identity_linked(session, identity=identity)
    customer_id = linked.customer_id
    if customer_id is None:
        customer_id = _link_the_one(session, identity, _on_file(session, login), LOGIN_ACTOR)
    return Identified(crm.CHAT_LOGIN_PREFIX + login.external_id, customer_id)


def _on_file(session: Session, login: ChatLogin) -> list[int]:
    """The customers on file with the token's e-mail address, else its number."""
    for key in (login.email, login.phone):
        if key:
            found = crm.customers_of_key(session, key=key)
            if found:
                return found
    return []


def _link_the_one(
    session: Session, identity: crm.Identity, candidates: list[int], actor: str
) -> int | None:
    """Link ``identity`` to the one candidate; several (a shared landline) or none: nobody."""
    if len(candidates) != 1:
        return None
    return crm.link_identity(
        session, customer_id=candidates[0], identity=identity, actor=actor
    ).customer_id


def address_of(kind: str, given: str) -> str:
    """The address a code goes to, normalised (e-mail in lower case, a mobile in E.164);
    :class:`ValueError` with the rule broken."""
    given = given.strip()
    if kind == "email":
        local, at, domain = given.partition("@")
        if not at or not local or "." not in domain or len(given) > 254 or " " in given:
            raise ValueError("an e-mail address is name@example.com")
        return given.lower()
    if kind == "phone":
        number = try_normalize(given)
        if number is None or number.kind not in (PhoneKind.MOBILE, PhoneKind.INTERNATIONAL):
            raise ValueError("a code is texted to a mobile number, like 13800138000")
        return number.e164
    raise ValueError("kind is email or phone")


def send_code(
    session: Session,
    *,
    conversation_id: str,
    kind: str,
    address: str,
    language: str,
    server_secret: bytes,
    now: float,
    sms_line: Any = None,
) -> str | NotSent:
    """Send a new code to ``address`` (normalised by :func:`address_of`) and keep its hash;
    returns the address masked, or :class:`NotSent` when the SMS rules refused the text
    (do-not-call list, quiet hours). :class:`Conflict` when too many codes went to the chat
    or the address in the last hour, or the center cannot send it (no mailbox, no gateway)."""
    if (
        chat.codes_sent(
            session=session, conversation_id=conversation_id, address=address, since=now - 3600
        )
        >= SENDS_PER_HOUR
    ):
        raise Conflict(f"at most {SENDS_PER_HOUR} codes an hour; try again later")
    code = new_code(secrets.randbelow(1_000_000))
    words = WORDS.get(language, WORDS["zh-CN"])
    text = words["text"].format(code=code)
    if kind == "email":
        mail.queue_notice(
            session, to=address, subject=words["subject"], text=text, kind="chat_code",
            author="chat",
        )  # fmt: skip
        shown = mask_email(address)
    else:
        gateway = getattr(sms_line, "gateway", None)
        if gateway is None:
            raise Conflict("codes cannot be texted now: the center has no SMS gateway running")
        bridge = getattr(sms_line, "bridge", None)
        outcome = sms.send_sms(
            session=session, gateway=gateway, to=address, text=text, purpose="verification",
            actor="chat", now=datetime.fromtimestamp(now, UTC),
            quiet_hours=getattr(bridge, "quiet_hours", None),
        )  # fmt: skip
        if outcome.status != "sent":
            return NotSent(f"the code was not texted: {outcome.reason}")
        shown = mask_phone(address)
    pending = issue(
        code=code, conversation=conversation_id, address=address, secret=server_secret, now=now
    )
    chat.keep_code(session=session, pending=pending, kind=kind, now=now)
    return shown


@dataclass(frozen=True)
class CodeTried:
    """A try of a code: ``verified``, ``wrong``, ``locked`` or ``expired``; once verified, the
    chat's new identity."""

    outcome: str
    tries_left: int
    identified: Identified | None = None


def try_code(
    session: Session, *, conversation_id: str, code: str, server_secret: bytes, now: float
) -> CodeTried:
    """Check a code the visitor typed against the chat's last one (:class:`Conflict` when
    none was sent); the right one proves the address (see the module)."""
    latest = chat.latest_code(session=session, conversation_id=conversation_id)
    if latest is None:
        raise Conflict("no code was sent in this chat: ask for one first")
    kind, pending = latest
    tried, outcome = check(pending, code=code, secret=server_secret, now=now)
    if tried != pending:
        chat.record_try(session=session, pending=tried, now=now)
    left = max(0, MAX_ATTEMPTS - tried.attempts)
    if outcome != "verified":
        return CodeTried(outcome, left)
    identity = crm.Identity(kind, pending.address)
    customer_id = crm.identity_linked(session, identity=identity).customer_id
    if customer_id is None:
        on_file = crm.customers_of_key(session, key=pending.address)
        customer_id = _link_the_one(session, identity, on_file, CODE_ACTOR)
    return CodeTried(outcome, left, Identified(pending.address, customer_id))


def refused_login(conversation_hint: str, refused: LoginRefused) -> None:
    """Log why a login token identified nobody (the chat goes on anonymous)."""
    log.warning("chat login token refused (%s): %s; the chat goes on anonymous",
                conversation_hint, refused.reason)  # fmt: skip
