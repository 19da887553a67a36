"""The desk's browser softphone: where it registers, and as whom.

An agent who works with nothing but a browser (from home, in a crisis) takes calls on the
desk's own softphone: SIP over a WebSocket (RFC 7118) to the voice server's registrar, media
over WebRTC bridged to plain RTP by rtpengine (:mod:`hotline.telephony.media.rtpengine`). The
softphone registers with the agent's own phone credentials (the server's ``--phones`` file,
the same digest a desk SIP phone answers), so the registrar, the ringing and the call
controls treat it as one more phone of the agent. This route tells the signed-in agent, and
nobody else, the WebSocket port and those credentials; the page builds the ``ws://`` (or,
behind a TLS proxy, ``wss://``) address from its own host. Handing out a password is on the
record: each answer that carries one writes a ``softphone.credentials`` audit entry (who, for
which agent, which SIP user), so a leaked password can be traced to the sessions that saw it.

The softphone's JavaScript SIP stack is JsSIP, from the npm registry (``package.json``),
bundled into one browser file by ``scripts/npm-deps.sh`` (esbuild) and served by
:func:`jssip_library` — never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse

from hotline.identity import audit
from hotline.web.api.live.guards import OWN_DESK
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, require_roles, write_apart

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))
library_router = APIRouter(include_in_schema=False)

#: JsSIP's browser build, as scripts/npm-deps.sh bundles it next to the repository's
#: package.json (JsSIP's npm package has no browser build of its own).
JSSIP = Path(__file__).resolve().parents[5] / "node_modules" / ".build" / "jssip.min.js"


class SoftphoneOut(ResponseModel):
    """Whether the desk's softphone can register now and, if so, where and as whom.

    ``available`` is false with a ``reason`` when this server takes no phone calls, takes
    no SIP over WebSocket, or has no phone credentials for the agent.
    """

    available: bool
    reason: str | None = None
    websocket_port: int | None = None
    user: str | None = None
    password: str | None = None
    realm: str | None = None


@router.get("/agents/{agent_id}/softphone")
async def softphone(
    agent_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> SoftphoneOut:
    """The softphone's registration for the signed-in agent (their own phone credentials;
    audited as ``softphone.credentials``)."""
    voice = getattr(request.app.state, "voice", None)
    if voice is None:
        return SoftphoneOut(available=False, reason="no_voice")
    options = voice.options
    if options.ws_port is None:
        return SoftphoneOut(available=False, reason="no_websocket")
    phone = next((p for p in options.phones if p.agent_id == agent_id), None)
    if phone is None:
        return SoftphoneOut(available=False, reason="no_phone")
    # on the record before it goes out, in a short writer session of its own (a GET reads)
    await write_apart(
        request,
        lambda session: audit.record(
            session,
            actor=user.username,
            action="softphone.credentials",
            target=agent_id,
            detail={"sip_user": phone.user},
        ),
    )
    return SoftphoneOut(
        available=True,
        websocket_port=options.ws_port,
        user=phone.user,
        password=phone.password,
        realm=options.realm,
    )


@library_router.get("/desk/jssip.js")
def jssip_library(_: CurrentUser = Depends(require_roles("agent"))) -> FileResponse:
    """JsSIP's browser build for the desk's softphone (404 until npm installed it)."""
    if not JSSIP.is_file():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "JsSIP is not installed: run scripts/npm-deps.sh"
        )
    return FileResponse(JSSIP, media_type="text/javascript")
