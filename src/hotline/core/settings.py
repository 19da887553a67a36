"""Settings read from the environment, with embedded defaults that need no set-up."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


def _default_home() -> Path:
    return Path(os.environ.get("HOTLINE_HOME", Path.cwd() / "var"))


class Settings(BaseModel):
    """Where Hotline keeps its data and how it is reached.

    ``HOTLINE_DATABASE_URL`` selects PostgreSQL (``postgresql+psycopg://…``); without it,
    Hotline uses a SQLite file under ``HOTLINE_HOME`` (default ``./var``).
    """

    home: Path = Field(default_factory=_default_home)
    database_url: str = ""
    secret_key: str = ""
    token_ttl_s: int = 12 * 3600
    center_config: Path | None = None
    # Behind HTTPS: mark cookies Secure (never sent over plain HTTP) and send HSTS.
    secure_cookies: bool = False
    # Origins besides the server's own that may make cookie-signed changes and open streams
    # (e.g. ``https://hotline.example.com`` when a TLS proxy fronts a plain-HTTP server).
    allowed_origins: tuple[str, ...] = ()

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to the SQLite file in ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'hotline.db'}"


def load_settings() -> Settings:
    """Build settings from ``HOTLINE_*`` environment variables."""
    config = os.environ.get("HOTLINE_CENTER_CONFIG")
    return Settings(
        home=_default_home(),
        database_url=os.environ.get("HOTLINE_DATABASE_URL", ""),
        secret_key=os.environ.get("HOTLINE_SECRET_KEY", ""),
        token_ttl_s=int(os.environ.get("HOTLINE_TOKEN_TTL_S", "43200")),
        center_config=Path(config) if config else None,
        secure_cookies=os.environ.get("HOTLINE_SECURE_COOKIES", "").lower() in {"1", "true", "yes"},
        allowed_origins=tuple(
            origin.strip().rstrip("/")
            for origin in os.environ.get("HOTLINE_ALLOWED_ORIGINS", "").split(",")
            if origin.strip()
        ),
    )
