"""A mailbox's settings as an administrator enters them, checked before they take effect.

Each problem names its field (``smtp_port``, ``address``…) and the rule broken; the API
answers 422 with them, the CLI prints them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from hotline.channels.email.limits import DEFAULT_MAX_MESSAGE_BYTES, MIB

HOUR = 3600.0
Security = Literal["none", "starttls", "tls"]


class MailboxSettings(BaseModel):
    """One service mailbox: its address, the relay replies leave through, the IMAP box polled
    (optional: mail may arrive by SMTP instead), and the e-mail channel's SLA targets (business
    hours) its tickets get."""

    address: str = Field(max_length=254, description="The address customers write to.")
    display_name: str = Field("", max_length=128)
    queue: str = Field("", max_length=64, description="The ticket queue of new tickets.")
    smtp_host: str = Field("", max_length=255, description="The relay replies go out through.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: Security = "none"
    smtp_username: str = Field("", max_length=255)
    smtp_password: str | None = Field(
        None, max_length=1024, description="Write-only; omit to keep the stored one."
    )
    imap_host: str = Field("", max_length=255, description="Empty: no IMAP polling.")
    imap_port: int = Field(143, ge=1, le=65535)
    imap_security: Security = "none"
    imap_username: str = Field("", max_length=255)
    imap_password: str | None = Field(None, max_length=1024, description="Write-only.")
    imap_folder: str = Field("INBOX", min_length=1, max_length=255)
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=64 * 1024, le=100 * MIB)
    auto_acknowledge: bool = True
    first_response_hours: float = Field(4.0, gt=0, le=24 * 30)
    next_update_hours: float = Field(8.0, gt=0, le=24 * 30)
    resolution_hours: float = Field(24.0, gt=0, le=24 * 90)
    active: bool = True

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip().lower()
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or " " in value:
            raise ValueError("must be an e-mail address such as help@support.example.com")
        return value

    @model_validator(mode="after")
    def _credentials_need_a_user(self) -> MailboxSettings:
        if self.imap_host and not self.imap_username:
            raise ValueError("imap_username: IMAP polling needs the mailbox's user name")
        if self.smtp_password and not self.smtp_username:
            raise ValueError("smtp_username: an SMTP password needs its user name")
        if self.resolution_hours < self.first_response_hours:
            raise ValueError("resolution_hours: must not be shorter than first_response_hours")
        return self

    @property
    def domain(self) -> str:
        """The part after ``@``: our Message-IDs are on it."""
        return self.address.split("@", 1)[1]
