"""The client address behind trusted reverse proxies (``X-Forwarded-For``), pure cases."""

from __future__ import annotations

from hotline.web.proxies import forwarded_client

TRUSTED = ("10.0.0.0/24", "fd00::/8")


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert forwarded_client("127.0.0.1", ["203.0.113.9"], ()) == "127.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_says() -> None:
    assert forwarded_client("198.51.100.7", ["203.0.113.9"], TRUSTED) == "198.51.100.7"


def test_the_first_address_from_the_right_that_is_no_trusted_proxy_is_the_client() -> None:
    # A chain of proxies; the leftmost entry is whatever the client claimed.
    hops = ["6.6.6.6, 203.0.113.9", "10.0.0.8"]
    assert forwarded_client("10.0.0.5", hops, TRUSTED) == "203.0.113.9"
    assert forwarded_client("fd00::1", ["2001:db8::7"], TRUSTED) == "2001:db8::7"


def test_only_trusted_hops_then_the_leftmost_is_the_client() -> None:
    assert forwarded_client("10.0.0.5", ["10.0.0.9, 10.0.0.8"], TRUSTED) == "10.0.0.9"


def test_no_header_or_garbage_stops_at_the_last_hop_known() -> None:
    assert forwarded_client("10.0.0.5", [], TRUSTED) == "10.0.0.5"
    assert forwarded_client("10.0.0.5", ["<script>"], TRUSTED) == "10.0.0.5"
    assert forwarded_client("10.0.0.5", ["not-an-ip, 10.0.0.8"], TRUSTED) == "10.0.0.8"
