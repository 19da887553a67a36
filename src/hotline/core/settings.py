"""Settings read from the environment, with embedded defaults that need no set-up."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, Field, field_validator


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
    # Reverse proxies (addresses or networks, e.g. ``10.0.0.5`` or ``10.0.0.0/24``) whose
    # ``X-Forwarded-For`` names the client; from anyone else the header is ignored.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(network) for network in proxy_networks(values))

    def with_trusted_proxies(self, values: list[str] | tuple[str, ...]) -> Settings:
        """These settings with ``values`` added to the trusted proxies, checked first (a
        ValueError names an entry that is not an address or network)."""
        if not values:
            return self
        networks = proxy_networks(values)  # refuse before anything takes effect
        merged = (*self.trusted_proxies, *(str(n) for n in networks))
        return self.model_copy(update={"trusted_proxies": tuple(dict.fromkeys(merged))})

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to the SQLite file in ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'hotline.db'}"


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(values: tuple[str, ...] | list[str]) -> tuple[ProxyNetwork, ...]:
    """The trusted-proxy setting as networks; a ValueError names the entry that is not one.

    >>> proxy_networks(["10.0.0.5", "192.168.1.0/24"])
    (IPv4Network('10.0.0.5/32'), IPv4Network('192.168.1.0/24'))
    >>> proxy_networks(["proxy.example.com"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: trusted proxy 'proxy.example.com' is not an IP address or network ...
    """
    networks = []
    for value in values:
        try:
            # strict=False: "10.0.0.7/24" means the network it lies in, as people write it.
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"trusted proxy {value!r} is not an IP address or network "
                "(e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return tuple(networks)


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
        trusted_proxies=tuple(
            proxy.strip()
            for proxy in os.environ.get("HOTLINE_TRUSTED_PROXIES", "").split(",")
            if proxy.strip()
        ),
    )
