"""Rasa as scripts/run.sh starts it (bot.ops.endpoints.server_args): browsers may
call it only from the widget page's origin, and it listens on loopback only
(issue 12: `--cors "*"` reflected any Origin with credentials allowed, and Rasa
listened on 0.0.0.0 while the banner said 127.0.0.1)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def preflight(url: str, origin: str) -> dict:
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return {k.lower(): v for k, v in error.headers.items()}


def test_only_the_widget_pages_origin_may_call_rasa_from_a_browser(servers):
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    page = f"http://127.0.0.1:{servers.settings['WEB_PORT']}"
    assert preflight(url, page).get("access-control-allow-origin") == page
    for foreign in ("https://evil.example", "http://127.0.0.1:1", "null"):
        assert "access-control-allow-origin" not in preflight(url, foreign)


def _outward_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_rasa_listens_on_loopback_only(servers):
    port = urllib.parse.urlsplit(servers.rasa_url).port
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    with socket.socket() as client:
        client.settimeout(5)
        assert client.connect_ex((address, port)) != 0, f"Rasa answers on {address}:{port}"
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
