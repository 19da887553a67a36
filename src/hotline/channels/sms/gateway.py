"""The SMS gateway port: what the channel needs of whatever carries its messages.

The real adapter is :class:`hotline.channels.sms.smpp.SmppGateway` (SMPP 3.4); the fake below
keeps what it is given, for fast tests of the callers.
"""

from __future__ import annotations

from typing import Protocol


class GatewayDown(RuntimeError):
    """The gateway cannot take a message now (not bound, or it refused): keep it and retry."""


class SmsGateway(Protocol):
    """Something that submits an SMS and returns the carrier's id of each part."""

    def send(self, *, to: str, text: str) -> list[str]:
        """Submit ``text`` to ``to``; the ids of its parts. Raises :class:`GatewayDown`."""
        ...


class FakeGateway:
    """An in-memory gateway: ``sent`` holds ``(to, text)``; ``down`` makes it refuse.

    >>> gateway = FakeGateway()
    >>> gateway.send(to="+8613800138000", text="hi"), gateway.sent
    (['fake-1'], [('+8613800138000', 'hi')])
    """

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False

    def send(self, *, to: str, text: str) -> list[str]:
        """Keep the message, or refuse it while ``down``."""
        if self.down:
            raise GatewayDown("the fake gateway is down")
        self.sent.append((to, text))
        return [f"fake-{len(self.sent)}"]
