"""The SMS gateway over SMPP 3.4, the protocol operators' SMS centres (SMSC) speak.

One TCP session bound as a *transceiver* (``bind_transceiver``) both submits messages
(``submit_sm``, answered by ``submit_sm_resp`` with the SMSC's message id) and receives them
(``deliver_sm``: a customer's SMS, or, with esm_class 0x04, a delivery receipt), each
acknowledged with ``deliver_sm_resp``. ``enquire_link`` keeps an idle session alive and finds
a dead one. When the connection drops, the gateway binds again, waiting longer after each
failure; a message submitted while it is down is refused at once (:class:`GatewayDown`), so
the caller keeps it and retries rather than it vanishing in a buffer.

The PDUs are smpplib's (a maintained SMPP client library); this module adds the session's
life: the reader thread, matching each ``submit_sm_resp`` to its ``submit_sm`` by sequence
number, and the reconnection.

Example::

    gateway = SmppGateway(host="127.0.0.1", port=2775, system_id="hotline", password="pw",
                          source_addr="10690000", on_message=print, on_receipt=print)
    gateway.start()   # an SmsGateway (hotline.channels.sms.gateway)
    ids = gateway.send(to="13800138000", text="您好，您的维修预约在明天上午。")
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from hotline.channels.sms.gateway import GatewayDown
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.text import RECEIPT, Receipt, decode, parse_receipt, segments

log = logging.getLogger(__name__)
OK = 0  # SMPP command_status ESME_ROK
#: ESME_RX_T_APPN: "temporarily cannot take the message" — the SMSC delivers it again later.
TRY_AGAIN: int = smpplib.consts.SMPP_ESME_RX_T_APPN

#: Seconds of silence before an enquire_link is sent (smpplib sends it on the socket timeout).
ENQUIRE_EVERY_S = 10.0
#: How long a submit_sm waits for its answer.
ANSWER_WAIT_S = 10.0
#: Waits between binding attempts after a failure (the last one repeats).
RECONNECT_WAITS_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class IncomingSms:
    """A customer's SMS (a long one joined from its parts)."""

    sender: str
    to: str
    text: str


class SmppGateway:
    """An SMPP 3.4 transceiver session with its reader thread (see the module)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source_addr: str,
        on_message: Callable[[IncomingSms], int | None],
        on_receipt: Callable[[Receipt], None],
        enquire_every_s: float = ENQUIRE_EVERY_S,
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password, self.source_addr = system_id, password, source_addr
        self.on_message, self.on_receipt = on_message, on_receipt
        self.enquire_every_s = enquire_every_s
        self._client: smpplib.client.Client | None = None
        self._bound = threading.Event()
        self._stopping = threading.Event()
        self._sending = threading.Lock()
        self._answers: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._references = itertools.count(1)
        self._partial: dict[tuple[str, int], dict[int, str]] = {}
        self._thread: threading.Thread | None = None
        #: How many times a session was bound (reconnections show here).
        self.binds = 0
        #: Why the last session ended or its bind failed ("" while none has).
        self.last_error = ""

    @classmethod
    def of(
        cls,
        settings: GatewaySettings,
        *,
        on_message: Callable[[IncomingSms], int | None],
        on_receipt: Callable[[Receipt], None],
    ) -> SmppGateway:
        """The session to the gateway ``settings`` describe (its password decrypted)."""
        return cls(
            host=settings.host,
            port=settings.port,
            system_id=settings.system_id,
            password=settings.password or "",
            source_addr=settings.source_addr,
            on_message=on_message,
            on_receipt=on_receipt,
        )

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start the session's thread (it binds, reads, and binds again after a drop)."""
        self._thread = threading.Thread(target=self._run, name="smpp-session", daemon=True)
        self._thread.start()

    @property
    def bound(self) -> bool:
        """Whether a session is bound now (else it is binding again, or stopped)."""
        return self._bound.is_set()

    def wait_bound(self, timeout: float) -> bool:
        """Wait until a session is bound; whether it is."""
        return self._bound.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Unbind and end the thread (within ``timeout``)."""
        self._stopping.set()
        client = self._client
        if client is not None and self._bound.is_set():
            with contextlib.suppress(Exception), self._sending:
                client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
        self._close()
        if self._thread is not None:
            self._thread.join(timeout)

    def _close(self) -> None:
        self._bound.clear()
        client = self._client
        if client is not None and client._socket is not None:
            with contextlib.suppress(OSError):
                client._socket.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                client.disconnect()
        for event, answer in list(self._answers.values()):
            answer.append(None)
            event.set()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._session()
                failures = 0
            except Exception as error:  # the SMSC went away or refused the bind
                if self._stopping.is_set():
                    break
                self.last_error = str(error) or type(error).__name__
                log.warning("smpp: session to %s:%s ended: %s", self.host, self.port, error)
            self._close()
            wait = RECONNECT_WAITS_S[min(failures, len(RECONNECT_WAITS_S) - 1)]
            failures += 1
            self._stopping.wait(wait)

    def _session(self) -> None:
        client = smpplib.client.Client(
            self.host, self.port, timeout=self.enquire_every_s, allow_unknown_opt_params=True
        )
        client.set_message_received_handler(self._received)
        client.set_message_sent_handler(self._answered)
        client.set_error_pdu_handler(self._error)
        self._client = client
        client.connect()
        client.bind_transceiver(system_id=self.system_id, password=self.password)
        self.binds += 1
        self._bound.set()
        while not self._stopping.is_set():
            client.read_once()  # an enquire_link goes out on each quiet timeout
            if client.state == smpplib.consts.SMPP_CLIENT_STATE_OPEN:
                raise smpplib.exceptions.ConnectionError("the SMSC unbound the session")

    # ------------------------------------------------------------------ sending

    def send(self, *, to: str, text: str) -> list[str]:
        """Submit ``text`` to ``to`` (in parts when long); the SMSC's message id of each part.

        Raises :class:`GatewayDown` when no session is bound or the SMSC refuses a part.
        """
        message = segments(text, reference=next(self._references))
        ids: list[str] = []
        for part in message.parts:
            ids.append(self._submit(to, part, message.data_coding, message.esm_class))
        return ids

    def _submit(self, to: str, part: bytes, data_coding: int, esm_class: int) -> str:
        client = self._client
        if client is None or not self._bound.is_set():
            raise GatewayDown("the SMS gateway is not connected to the SMSC")
        event: threading.Event = threading.Event()
        answer: list[Any] = []
        with self._sending:
            pdu = smpplib.smpp.make_pdu(
                "submit_sm",
                client=client,
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
                source_addr=self.source_addr,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                destination_addr=to,
                short_message=part,
                data_coding=data_coding,
                esm_class=esm_class,
                registered_delivery=1,  # ask for the delivery receipt
            )
            self._answers[pdu.sequence] = (event, answer)
            try:
                client.send_pdu(pdu)
            except Exception as error:
                self._answers.pop(pdu.sequence, None)
                raise GatewayDown(f"the SMSC connection failed: {error}") from None
        if not event.wait(ANSWER_WAIT_S):
            self._answers.pop(pdu.sequence, None)
            raise GatewayDown(f"the SMSC did not answer within {ANSWER_WAIT_S:.0f} s")
        resp = answer[0] if answer else None
        if resp is None:
            raise GatewayDown("the SMSC connection dropped before it answered")
        if resp.is_error():
            raise GatewayDown(f"the SMSC refused the message (status {resp.status})")
        message_id: bytes | str = resp.message_id
        return message_id.decode() if isinstance(message_id, bytes) else str(message_id)

    def _answered(self, pdu: Any, **_: Any) -> None:
        waiting = self._answers.pop(pdu.sequence, None)
        if waiting is not None:
            waiting[1].append(pdu)
            waiting[0].set()

    def _error(self, pdu: Any) -> None:
        if pdu.command == "submit_sm_resp":
            self._answered(pdu)
        else:
            log.warning("smpp: %s answered with status %s", pdu.command, pdu.status)

    # ------------------------------------------------------------------ receiving

    def _received(self, pdu: Any, **_: Any) -> int:
        """A deliver_sm: a receipt or a customer's SMS (parts joined), acknowledged with the
        status ``on_message`` gives (``None``: taken); one it raises on is refused for now
        (:data:`TRY_AGAIN`), so the SMSC delivers it again rather than it being lost."""
        raw = pdu.short_message or b""
        sender = _text(pdu.source_addr)
        if pdu.esm_class & RECEIPT:
            receipt = parse_receipt(raw.decode("latin-1"))
            if receipt is not None:
                self.on_receipt(receipt)
            return OK
        text, reference, total, number = decode(
            raw, data_coding=pdu.data_coding, esm_class=pdu.esm_class
        )
        if total > 1:
            parts = self._partial.setdefault((sender, reference), {})
            parts[number] = text
            if len(parts) < total:
                return OK
            text = "".join(parts[n] for n in sorted(parts))
        incoming = IncomingSms(sender=sender, to=_text(pdu.destination_addr), text=text)
        try:
            status = self.on_message(incoming)
        except Exception:
            # The parts stay: the SMSC delivers the refused last part again to complete them.
            log.exception("smpp: the SMS from %s could not be taken: the SMSC will retry", sender)
            return TRY_AGAIN
        if total > 1 and status is None:
            del self._partial[(sender, reference)]
        return OK if status is None else status


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""
