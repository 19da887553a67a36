"""The SMS gateway's settings as an administrator enters them, checked before they take effect.

The SMSC's address and the account the operator gave (SMPP ``system_id`` up to 15
characters, password up to 8 in SMPP 3.4), and the number or name SMS are sent from.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class GatewaySettings(BaseModel):
    """The SMSC the center binds to as a transceiver.

    >>> GatewaySettings(host="smsc.example.cn", system_id="hotline", source_addr="10690000").port
    2775
    """

    name: str = Field("default", pattern=r"^[a-z0-9_-]{1,32}$")
    host: str = Field(min_length=1, max_length=255, description="The SMSC's host.")
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, description="SMPP system_id.")
    password: str | None = Field(
        None, max_length=8, description="SMPP password (at most 8). Write-only."
    )
    source_addr: str = Field(
        min_length=1, max_length=20, description="The number or name SMS come from."
    )
    active: bool = True
