"""The SMPP gateway against a stand-in SMSC on 127.0.0.1: bind_transceiver, submit_sm (a long
Chinese message in UCS-2 parts with a UDH), delivery receipts, a customer's SMS in two parts,
enquire_link on a quiet line, and binding again after the SMSC drops the connection."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import smpplib.consts
import smpplib.smpp

from hotline.channels.sms.gateway import GatewayDown
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.smpp import OK, TRY_AGAIN, IncomingSms, SmppGateway
from hotline.channels.sms.text import RECEIPT, Receipt, decode, segments

REMINDER = (
    "您好！您预约的洗衣机维修定于明天上午9点至11点上门，师傅姓王，会提前半小时致电。"
    "如需改期请回复本短信，或拨打客服热线400-000-0000。祝您生活愉快！"
)


class _Numbering:
    """What smpplib's PDUs ask of their owner: a sequence number (the SMSC's own)."""

    sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


class StandInSmsc:
    """An SMSC as SMPP 3.4 describes it, for one client at a time."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.submitted: list[Any] = []
        self.enquiries = 0
        #: The status the client answered each deliver_sm with.
        self.delivered: list[int] = []
        self.binds: list[tuple[str, str]] = []
        self.connection: socket.socket | None = None
        self.numbering = _Numbering()
        self._lock = threading.Lock()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connection = connection
            with contextlib.suppress(OSError):
                self._session(connection)
            connection.close()

    def _read(self, connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _session(self, connection: socket.socket) -> None:
        while True:
            head = self._read(connection, 4)
            raw = head + self._read(connection, struct.unpack(">L", head)[0] - 4)
            pdu = smpplib.smpp.parse_pdu(raw, client=self.numbering)
            if pdu.command == "bind_transceiver":
                self.binds.append((pdu.system_id.decode(), pdu.password.decode()))
                ok = pdu.password == b"secret"
                status = smpplib.consts.SMPP_ESME_ROK if ok else smpplib.consts.SMPP_ESME_RINVPASWD
                self._answer(pdu, "bind_transceiver_resp", status=status, system_id="standin")
            elif pdu.command == "submit_sm":
                with self._lock:
                    self.submitted.append(pdu)
                    message_id = str(len(self.submitted))
                self._answer(pdu, "submit_sm_resp", message_id=message_id)
                receipt = (
                    f"id:{message_id} sub:001 dlvrd:001 submit date:2612030900 "
                    "done date:2612030901 stat:DELIVRD err:000 text:"
                ).encode()
                self.deliver(receipt, esm_class=RECEIPT)
            elif pdu.command == "enquire_link":
                self.enquiries += 1
                self._answer(pdu, "enquire_link_resp")
            elif pdu.command == "deliver_sm_resp":
                self.delivered.append(pdu.status)
            elif pdu.command == "unbind":
                self._answer(pdu, "unbind_resp")
                return
            with self.changed:
                self.changed.notify_all()

    def _answer(self, request: Any, command: str, **fields: Any) -> None:
        status = fields.pop("status", smpplib.consts.SMPP_ESME_ROK)
        resp = smpplib.smpp.make_pdu(command, client=self.numbering, **fields)
        resp.sequence = request.sequence
        resp.status = status
        self._send(resp)

    def _send(self, pdu: Any) -> None:
        assert self.connection is not None
        with self._lock:
            self.connection.sendall(pdu.generate())

    def deliver(
        self,
        short_message: bytes,
        *,
        esm_class: int = 0,
        data_coding: int = 0,
        source_addr: str = "8613800138000",
    ) -> None:
        """Send the client a deliver_sm (a customer's SMS or a receipt)."""
        pdu = smpplib.smpp.make_pdu(
            "deliver_sm",
            client=self.numbering,
            source_addr=source_addr,
            destination_addr="10690000",
            short_message=short_message,
            esm_class=esm_class,
            data_coding=data_coding,
        )
        self._send(pdu)

    def drop(self) -> None:
        """The SMSC restarts: the connection goes away."""
        if self.connection is not None:
            self.connection.shutdown(socket.SHUT_RDWR)

    def wait(self, condition: Any, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, timeout), "the SMSC never saw it"

    def close(self) -> None:
        self.listener.close()
        if self.connection is not None:
            self.connection.close()


def settings_for(smsc: StandInSmsc, *, password: str = "secret") -> GatewaySettings:
    """The gateway settings of an account on the stand-in SMSC."""
    return GatewaySettings(
        host="127.0.0.1",
        port=smsc.port,
        system_id="hotline",
        password=password,
        source_addr="10690000",
    )


def _note(received: list[IncomingSms], arrived: threading.Event, sms: IncomingSms) -> None:
    received.append(sms)
    arrived.set()


@pytest.fixture
def smsc() -> Iterator[StandInSmsc]:
    server = StandInSmsc()
    yield server
    server.close()


def test_a_long_chinese_reminder_goes_in_ucs2_parts_and_comes_back_delivered(
    smsc: StandInSmsc,
) -> None:
    received: list[IncomingSms] = []
    receipts: list[Receipt] = []
    arrived = threading.Event()
    gateway = SmppGateway(
        host="127.0.0.1",
        port=smsc.port,
        system_id="hotline",
        password="secret",
        source_addr="10690000",
        on_message=lambda sms: _note(received, arrived, sms),
        on_receipt=receipts.append,
        enquire_every_s=0.3,
    )
    gateway.start()
    try:
        assert gateway.wait_bound(10)
        assert smsc.binds == [("hotline", "secret")]
        ids = gateway.send(to="8613800138000", text=REMINDER)
        assert len(REMINDER) > 70 and ids == ["1", "2"]
        parts = [
            decode(p.short_message, data_coding=p.data_coding, esm_class=p.esm_class)
            for p in smsc.submitted
        ]
        assert "".join(text for text, *_ in parts) == REMINDER
        assert [(total, number) for _, _, total, number in parts] == [(2, 1), (2, 2)]
        assert {p.data_coding for p in smsc.submitted} == {8}
        assert all(p.registered_delivery == 1 for p in smsc.submitted)
        smsc.wait(lambda: len(receipts) == 2)
        assert [(r.message_id, r.delivered) for r in receipts] == [("1", True), ("2", True)]

        # A customer's SMS in two parts is joined before it is handed on.
        long = segments("请帮我改到后天下午，" * 8, reference=3)
        for part in long.parts:
            smsc.deliver(part, esm_class=long.esm_class, data_coding=long.data_coding)
        assert arrived.wait(10)
        assert received == [IncomingSms("8613800138000", "10690000", "请帮我改到后天下午，" * 8)]

        # A quiet line is kept alive with enquire_link.
        smsc.wait(lambda: smsc.enquiries >= 1)

        # The SMSC drops the connection: refused at once while down, then bound again.
        smsc.drop()
        smsc.wait(lambda: len(smsc.binds) == 2)
        assert gateway.wait_bound(10)
        assert gateway.send(to="8613800138000", text="See you tomorrow.") == ["3"]
        assert smsc.submitted[-1].short_message == b"See you tomorrow."
        assert smsc.submitted[-1].data_coding == 0
    finally:
        gateway.stop()
    with pytest.raises(GatewayDown, match="not connected"):
        gateway.send(to="8613800138000", text="x")


def test_a_refused_bind_is_retried_and_sending_meanwhile_is_refused_clearly(
    smsc: StandInSmsc,
) -> None:
    gateway = SmppGateway(
        host="127.0.0.1",
        port=smsc.port,
        system_id="hotline",
        password="wrong",
        source_addr="10690000",
        on_message=lambda sms: None,
        on_receipt=lambda receipt: None,
    )
    gateway.start()
    try:
        smsc.wait(lambda: len(smsc.binds) >= 2)  # refused, then tried again
        assert not gateway.wait_bound(0.1)
        with pytest.raises(GatewayDown, match="not connected"):
            gateway.send(to="8613800138000", text="你好")
    finally:
        gateway.stop()


def test_an_sms_the_center_cannot_take_is_answered_try_again_and_taken_when_sent_again(
    smsc: StandInSmsc,
) -> None:
    taken: list[IncomingSms] = []
    offered: list[IncomingSms] = []

    def take_the_second(sms: IncomingSms) -> None:
        offered.append(sms)
        if len(offered) == 1:
            raise RuntimeError("the server is stopping")
        taken.append(sms)

    gateway = SmppGateway.of(
        settings_for(smsc), on_message=take_the_second, on_receipt=lambda receipt: None
    )
    gateway.start()
    try:
        assert gateway.wait_bound(10)
        long = segments("请帮我改到后天下午，" * 8, reference=9)
        for part in long.parts:
            smsc.deliver(part, esm_class=long.esm_class, data_coding=long.data_coding)
        smsc.wait(lambda: len(smsc.delivered) == 2)
        # The first part is taken; the joined message is refused for now (ESME_RX_T_APPN).
        assert smsc.delivered == [OK, TRY_AGAIN] and taken == []
        smsc.deliver(long.parts[-1], esm_class=long.esm_class, data_coding=long.data_coding)
        smsc.wait(lambda: len(smsc.delivered) == 3)
        assert smsc.delivered[-1] == OK
        assert [sms.text for sms in taken] == ["请帮我改到后天下午，" * 8]
    finally:
        gateway.stop()
