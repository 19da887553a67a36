"""Authentication (bearer token or session cookie) and role checks for every route.

Each route declares who may call it with ``Depends(require_roles(...))``; a test walks the
whole app to prove every route does, and that a role outside the list gets 403 and no data.
A token is good only while the server-side session it names is live (see
``identity.sessions``). Tokens never travel in a URL: the live-event streams, which a browser
opens without headers, accept a one-minute ``?ticket=`` from ``POST /api/auth/stream-ticket``,
good for opening one stream: a ticket seen once (in a log, a browser's history) opens nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request, WebSocket, status
from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hotline.identity.roles import ALL_ROLES, allowed
from hotline.identity.sessions import live_account
from hotline.identity.tokens import STREAM, TokenClaims, read_token
from hotline.store.db import is_reader, reading, writing_async
from hotline.store.models.cluster import StreamTicketRow

COOKIE = "hotline_session"
# Requests that only read take no write lock on SQLite; the rest queue for it up front.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/ready",
        "/api/auth/login",
        "/login",
        "/logout",
        "/",
        # The web chat widget's own routes: customers are not users (hotline.web.api.chat
        # checks the page's origin and limits each address instead).
        "/chat/widget.js",
        "/chat/api/conversations",
        # A survey's page: the customer holds a signed, single-use link, not an account
        # (hotline.web.api.surveys checks the signature, the expiry and the one use).
        "/s/{token}",
        # WeChat's push: each request is signed with the account's Token (and, in safe mode,
        # sealed with its AES key); hotline.web.api.wechat refuses anything else.
        "/wechat/push/{app_id}",
    }
)


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in caller of a request."""

    username: str
    roles: tuple[str, ...]
    agent_id: str | None
    language: str
    session_id: str = ""

    def has(self, *roles: str) -> bool:
        """True when the caller holds admin or any of ``roles``."""
        return allowed(self.roles, roles)


def get_session(request: Request) -> Session:
    """A database session for one request (closed by ``session_dependency``)."""
    factory = request.app.state.session_factory
    session: Session = factory()
    return session


async def db_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency yielding a session that commits on success.

    A request that may write (not GET/HEAD/OPTIONS) waits for its turn at the database on
    the event loop (``writing_async``), holding no worker thread while it queues; its
    transaction lasts exactly the handler (``scope="function"``), so keep slow work — a
    password hash, a file upload, a big import — out of such handlers, or the whole queue
    waits for it.
    """
    session = get_session(request)
    try:
        if request.method not in READ_ONLY_METHODS:
            await writing_async(session)
        else:
            reading(session, purpose=_purpose(request))
        yield session
    except BaseException:
        await _finish(session, commit=False)
        raise
    await _finish(session, commit=True)


async def write_apart(request: Request, work: Callable[[Session], object]) -> None:
    """Do ``work`` in a short writer transaction of its own, committed (rolled back if it
    raises): a reading request that must leave a row — a GET's audit entry, a search kept
    for the knowledge base's gap report. It queues at the writer gate like any write, on the
    event loop; the request's own session is a reader, whose snapshot may be older than
    another writer's commit (SQLite then refuses it the write: "database is locked").
    """
    session = get_session(request)
    try:
        await writing_async(session)
        await run_in_threadpool(_commit, session, work)
    finally:
        session.close()


def _commit(session: Session, work: Callable[[Session], object]) -> None:
    try:
        work(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise


async def _finish(session: Session, *, commit: bool) -> None:
    if is_reader(session):
        # A reader wrote nothing and its end waits on nothing (``store.db.is_reader``): end it
        # here. A hop to a worker thread and back costs more than the work — on a busy server
        # each hop is a wake-up and a hand-over of the GIL, twice per request.
        _end(session, commit=commit)
    else:
        await run_in_threadpool(_end, session, commit=commit)


async def writer_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: a session that queues as a writer whatever the method.

    For a GET that writes: a playback or a read of personal data that is audited. Its
    transaction takes its turn in the writer queue like any change (``writing_async``), so
    the audit entry never takes SQLite's lock outside the queue; the route's own reads go in
    the same short transaction.
    """
    session = get_session(request)
    try:
        await writing_async(session)
        yield session
    except BaseException:
        await run_in_threadpool(_end, session, commit=False)
        raise
    await run_in_threadpool(_end, session, commit=True)


def _purpose(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def _end(session: Session, *, commit: bool) -> None:
    # Commit (or roll back) and close in one trip to a worker thread.
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def read_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session that does not queue as a writer, whatever the method.

    For a write route whose slow part only reads (sign-in's password check): it calls
    ``writing(session)`` itself after ``session.commit()`` ended the read, writes, and
    commits before returning.
    """
    session = reading(get_session(request), purpose=_purpose(request))
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bearer_token(request: Request | WebSocket) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if the request has one."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _token_from(request: Request | WebSocket) -> str | None:
    return bearer_token(request) or request.cookies.get(COOKIE) or None


class StreamTicketBook:
    """The stream tickets issued and not yet used: each opens one stream, once, on any node.

    A ticket is an HMAC-signed token like a session's; the book only remembers its id until
    it is used or expires (a minute), so a ticket copied from a log or a browser's history
    after use opens nothing. The ids are rows of the database (``stream_tickets``), not one
    process's memory: a browser that reconnects through another web node redeems its ticket
    there, and redeeming is one ``DELETE`` — of two nodes offered the same ticket at once,
    exactly one deletes the row.

    >>> from hotline.store.db import make_engine, make_session_factory
    >>> from hotline.store.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> upgrade(engine)
    >>> session = make_session_factory(engine)()
    >>> book = StreamTicketBook()
    >>> book.issue(session, "t1", expires_at=100.0, now=40.0)
    >>> book.redeem(session, "t1", now=41.0), book.redeem(session, "t1", now=42.0)
    (True, False)
    """

    def issue(self, session: Session, ticket_id: str, *, expires_at: float, now: float) -> None:
        """Remember a newly issued ticket until ``expires_at`` (in the caller's transaction).

        Tickets that expired unused are cleared on the way, so the table stays small.
        """
        session.execute(delete(StreamTicketRow).where(StreamTicketRow.expires_at <= now))
        session.add(StreamTicketRow(ticket_id=ticket_id, expires_at=expires_at))
        session.flush()

    def redeem(self, session: Session, ticket_id: str, *, now: float) -> bool:
        """Cross a ticket off; True only the first time, and only before it expires."""
        result = session.execute(
            delete(StreamTicketRow).where(
                StreamTicketRow.ticket_id == ticket_id, StreamTicketRow.expires_at > now
            )
        )
        return bool(getattr(result, "rowcount", 0))


def stream_ticket_book(app: Any) -> StreamTicketBook:
    """The book of stream tickets (kept in the database; the app holds no state of it)."""
    return _BOOK


_BOOK = StreamTicketBook()


def claims_from(
    request: Request | WebSocket, *, tickets: bool = False, session: Session | None = None
) -> TokenClaims | None:
    """The valid session-token claims of a request (header or cookie), if any.

    With ``tickets``, a stream ticket in ``?ticket=`` is accepted too (live-event streams only),
    once: using it crosses it off in ``session``'s transaction (a writer's). A session token in
    the URL is never accepted.
    """
    secret: bytes = request.app.state.secret
    now = time.time()
    token = _token_from(request)
    if token:
        return read_token(token, secret=secret, now=now)
    ticket = request.query_params.get("ticket") if tickets else None
    if ticket:
        claims = read_token(ticket, secret=secret, now=now, purpose=STREAM)
        if claims is None or session is None:
            return None
        if not stream_ticket_book(request.app).redeem(session, claims.ticket_id, now=now):
            return None
        return claims
    return None


def user_for(session: Session, claims: TokenClaims | None) -> CurrentUser | None:
    """The active user whose live session ``claims`` name, or ``None``."""
    if claims is None:
        return None
    user = live_account(
        session, session_id=claims.session_id, username=claims.username, now=time.time()
    )
    if user is None:
        return None
    return CurrentUser(
        username=user.username,
        roles=tuple(user.roles),
        agent_id=user.agent_id,
        language=user.language,
        session_id=claims.session_id,
    )


def _signed_in(request: Request, session: Session, *, tickets: bool) -> CurrentUser:
    claims = claims_from(request, tickets=tickets, session=session)
    if claims is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in first", {"WWW-Authenticate": "Bearer"}
        )
    user = user_for(session, claims)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "session ended or account not active; sign in again",
            {"WWW-Authenticate": "Bearer"},
        )
    return user


def current_user(
    request: Request, session: Session = Depends(db_session, scope="function")
) -> CurrentUser:
    """The signed-in user; 401 when the token is missing, invalid, expired, revoked or the
    user inactive."""
    return _signed_in(request, session, tickets=False)


def stream_user(
    request: Request, session: Session = Depends(writer_session, scope="function")
) -> CurrentUser:
    """As :func:`current_user`, also accepting a stream ticket in ``?ticket=``.

    Redeeming a ticket deletes its row, so a stream's sign-in queues as a writer (briefly: the
    transaction ends when the stream's handler returns, before any event is sent).
    """
    return _signed_in(request, session, tickets=True)


class RoleGuard:
    """A dependency that admits only users holding one of ``roles`` (admin always passes)."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        unknown = [r for r in roles if r not in ALL_ROLES]
        if unknown:
            raise ValueError(f"unknown roles {unknown}")
        self.roles = roles

    # A coroutine, although it only compares roles: FastAPI runs a plain ``def`` dependency
    # in a worker thread, and on a busy server each such hop (a queue, a wake-up, the GIL
    # handed over) added to every request's latency for no work at all.
    async def __call__(
        self, user: CurrentUser = Depends(current_user, scope="function")
    ) -> CurrentUser:
        return self.admit(user)

    def admit(self, user: CurrentUser) -> CurrentUser:
        """Return ``user`` if they hold one of the roles, else raise 403."""
        if not user.has(*self.roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs one of the roles: {', '.join(self.roles)}",
            )
        return user


class StreamRoleGuard(RoleGuard):
    """A :class:`RoleGuard` for live-event streams: also admits a ``?ticket=`` stream ticket."""

    async def __call__(
        self, user: CurrentUser = Depends(stream_user, scope="function")
    ) -> CurrentUser:
        return self.admit(user)


def require_roles(*roles: str) -> RoleGuard:
    """Declare the roles that may call a route; use as ``Depends(require_roles("agent"))``.

    ``require_roles()`` with no roles admits any signed-in user.
    """
    return RoleGuard(roles or ALL_ROLES)


def require_stream_roles(*roles: str) -> StreamRoleGuard:
    """As :func:`require_roles`, for a stream a browser opens without headers (``?ticket=``)."""
    return StreamRoleGuard(roles or ALL_ROLES)
