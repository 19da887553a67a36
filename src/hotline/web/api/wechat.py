"""WeChat official account: the message push endpoint, and the accounts (admin).

    GET    /wechat/push/wx5823bf96d3bd56c7?signature&timestamp&nonce&echostr  -> echostr
    POST   /wechat/push/wx5823bf96d3bd56c7?signature&timestamp&nonce[&encrypt_type=aes
           &msg_signature]   (WeChat's XML push)                             -> "success"
    GET    /api/wechat/accounts              -> the accounts, secrets only as "set" (admin)
    PUT    /api/wechat/accounts              -> create or update one, checked first (admin)
    DELETE /api/wechat/accounts/wx…          -> remove one (admin)

The push URL configured on the WeChat platform is ``https://<server>/wechat/push/<AppID>``.
WeChat is not a user: the push endpoint is public and trusts only the signature made with the
account's Token (and, in safe mode, the ``msg_signature`` and the AppID inside the encrypted
message). A push is kept in the database before it is answered; ``success`` comes at once and
a retry of a kept push (same ``MsgId``) is answered ``success`` again without posting twice.
Refusals say what is wrong: 403 (signature, replay), 400 (malformed: kept all the same when it
was signed, so nothing WeChat sent is lost), 404 (no such account), 413 (too large).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from hotline.channels.email.credentials import CredentialError
from hotline.channels.wechat import protocol
from hotline.channels.wechat import service as wechat
from hotline.channels.wechat.settings import APP_ID, WeChatSettings
from hotline.core.errors import NotFound
from hotline.web.access import current_center
from hotline.web.api.chat import relay_of
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.chat_relay import in_writer
from hotline.web.wechat_bridge import WeChatBridge

router = APIRouter(tags=["wechat"])
log = logging.getLogger(__name__)
PUSH_PATH = "/wechat/push/{app_id}"
#: WeChat retries after 5 s: whatever is not done by then goes on after the answer.
ANSWER_WITHIN_S = 3.0
SUCCESS = "success"


def bridge_of(app: Any) -> WeChatBridge | None:
    """The app's WeChat bridge, made with the chat relay the first time a push needs it."""
    bridge: WeChatBridge | None = getattr(app.state, "wechat", None)
    if bridge is not None:
        return bridge
    relay = relay_of(app)
    if relay is None:
        return None
    bridge = WeChatBridge(
        relay=relay,
        session_factory=app.state.session_factory,
        transport=getattr(app.state, "wechat_transport", None),
    )
    app.state.wechat = bridge

    async def stop(_: Any) -> None:
        await bridge.stop()

    app.state.on_stop.insert(0, stop)  # before the relay: replies in flight finish first
    return bridge


def _account(request: Request, app_id: str) -> wechat.Account:
    if len(app_id) > 32:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such WeChat account")
    with request.app.state.session_factory() as session:
        try:
            return wechat.account(session, app_id=app_id, secret=request.app.state.secret)
        except NotFound:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no active WeChat account {app_id}"
            ) from None
        except CredentialError as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None


def _signed(
    account: wechat.Account,
    query: Any,
    now: float,
    *,
    signature: str = "signature",
    encrypted: str | None = None,
) -> None:
    """403 unless the query's ``signature`` (or ``msg_signature`` over ``encrypted``) is
    the account token's and its timestamp is fresh."""
    try:
        protocol.check_push(
            token=account.token,
            timestamp=query.get("timestamp", ""),
            nonce=query.get("nonce", ""),
            given=query.get(signature, ""),
            now=now,
            encrypted=encrypted,
        )
    except protocol.ProtocolRefused as refusal:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{refusal.field}: {refusal.rule}") from None


@router.get(PUSH_PATH, include_in_schema=False)
def verify_url(request: Request, app_id: str) -> Response:
    """WeChat's check of the push URL: the signed ``echostr`` is echoed back."""
    account = _account(request, app_id)
    query = request.query_params
    _signed(account, query, time.time())
    echo = query.get("echostr", "")
    if not echo or len(echo) > 128:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "echostr: WeChat's check carries it")
    return PlainTextResponse(echo)


@router.post(PUSH_PATH, include_in_schema=False)
async def push(request: Request, app_id: str) -> Response:
    """A follower's message or event pushed by WeChat: checked, kept, posted, answered."""
    account = _account(request, app_id)
    query = request.query_params
    now = time.time()
    _signed(account, query, now)
    body = await _body(request)
    safe = query.get("encrypt_type", "raw") == "aes"
    if account.encoding_aes_key and not safe:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "encrypt_type: this account is in safe mode; a plain push is refused",
        )
    try:
        if safe:
            if not account.encoding_aes_key:
                raise protocol.ProtocolRefused(
                    "encrypt_type", "this account has no EncodingAESKey: set safe mode first"
                )
            encrypted = protocol.encrypted_part(body)
            _signed(account, query, now, signature="msg_signature", encrypted=encrypted)
            xml = protocol.decrypt(
                encrypted, encoding_aes_key=account.encoding_aes_key, app_id=account.app_id
            )
        else:
            xml = body.decode("utf-8")
        inbound = protocol.parse(xml)
    except (protocol.ProtocolRefused, UnicodeDecodeError) as problem:
        await _keep_malformed(request, account, body, now, problem)
        rule = (
            f"{problem.field}: {problem.rule}"
            if isinstance(problem, protocol.ProtocolRefused)
            else "body: the push is not UTF-8"
        )
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{rule} (the push is kept)") from None

    def keep(session: Session) -> int | None:
        return wechat.keep_push(
            session,
            app_id=account.app_id,
            dedupe_key=f"{account.app_id}:{inbound.dedupe_key}",
            open_id=inbound.from_user,
            msg_type=inbound.msg_type,
            xml=xml,
            at=now,
        )

    bridge = bridge_of(request.app)
    push_id: int | None = await _write(request, keep)
    if push_id is None:
        return PlainTextResponse(SUCCESS)  # WeChat's retry of a push already kept
    if bridge is not None:
        work = asyncio.ensure_future(bridge.receive(account, inbound, push_id))
        work.add_done_callback(_log_failure)
        try:
            # Shielded: past the deadline it goes on, and WeChat is answered in time anyway.
            await asyncio.wait_for(asyncio.shield(work), ANSWER_WITHIN_S)
        except TimeoutError:
            log.warning("wechat: push %s still being posted after %s s", push_id, ANSWER_WITHIN_S)
        except Exception:
            pass
    return PlainTextResponse(SUCCESS)


def _log_failure(task: asyncio.Future[str | None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The push is kept (status ``received``): nothing is lost, it waits for a look.
        log.error("wechat: a kept push could not be posted", exc_info=task.exception())


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > protocol.MAX_BODY_BYTES:
        raise HTTPException(
            413,
            f"body: a push has at most {protocol.MAX_BODY_BYTES} bytes",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > protocol.MAX_BODY_BYTES:
            raise HTTPException(
                413,
                f"body: a push has at most {protocol.MAX_BODY_BYTES} bytes",
            )
    return body


async def _keep_malformed(
    request: Request, account: wechat.Account, body: bytes, now: float, problem: Exception
) -> None:
    """Keep a signed push that could not be read, once (WeChat retries it), for a look."""
    digest = hashlib.sha1(body).hexdigest()
    reason = str(problem)[:500]

    def keep(session: Session) -> None:
        wechat.keep_push(
            session,
            app_id=account.app_id,
            dedupe_key=f"{account.app_id}:malformed:{digest}",
            open_id="",
            msg_type="",
            xml=body.decode("utf-8", "replace"),
            at=now,
            status="malformed",
            error=reason,
        )

    await _write(request, keep)


async def _write(request: Request, work: Callable[[Session], Any]) -> Any:
    """Commit ``work``, in turn with the chat relay's batches when chats are running."""
    bridge = bridge_of(request.app)
    if bridge is not None:
        return await bridge.relay.write(work)
    return await in_writer(request.app.state.session_factory, work)


# --------------------------------------------------------------------------- accounts (admin)


class WeChatAccountOut(ResponseModel):
    """An official account as configured; its secrets only say whether they are set."""

    app_id: str
    queue: str
    api_base: str
    active: bool
    token_set: bool
    encoding_aes_key_set: bool
    app_secret_set: bool
    safe_mode: bool


ADMIN = require_roles("admin")


@router.get("/api/wechat/accounts", responses=errors())
def list_accounts(
    user: CurrentUser = Depends(ADMIN),
    session: Session = Depends(db_session, scope="function"),
) -> list[WeChatAccountOut]:
    """The configured WeChat official accounts."""
    return [
        WeChatAccountOut.model_validate(wechat.account_view(a))
        for a in wechat.list_accounts(session)
    ]


@router.put("/api/wechat/accounts", responses=errors(422))
def save_account(
    body: WeChatSettings,
    request: Request,
    user: CurrentUser = Depends(ADMIN),
    session: Session = Depends(db_session, scope="function"),
) -> WeChatAccountOut:
    """Create or update (by AppID) an account; each problem comes back (422) with its field.
    Secrets are stored encrypted; leave one out to keep the stored one."""
    center = current_center(request)
    chat_queues = sorted(q.id for q in center.queues if q.channel == "chat") if center else []
    if center is not None and body.queue not in chat_queues:
        raise HTTPException(
            422,
            f"queue: {body.queue!r} is not a chat queue of the center; one of {chat_queues}",
        )
    try:
        account = wechat.save_account(
            session, settings=body, secret=request.app.state.secret, actor=user.username
        )
    except ValueError as problem:
        raise HTTPException(422, str(problem)) from None
    return WeChatAccountOut.model_validate(wechat.account_view(account))


@router.delete("/api/wechat/accounts/{app_id}", status_code=204, responses=errors(404, 422))
def delete_account(
    app_id: str = Path(pattern=APP_ID),
    user: CurrentUser = Depends(ADMIN),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Remove an account; its followers' conversations stay."""
    wechat.delete_account(session, app_id=app_id, actor=user.username)
    return Response(status_code=204)
