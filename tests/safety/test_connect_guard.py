"""The guard's decision is the connection's address: no second lookup after the check.

DNS rebinding works when a name is resolved once to validate it and again to connect.
probe's network backend resolves once, checks every address, and hands the *checked IP
literal* to the socket layer. These tests put a real, recording backend under the guard
(it really connects) and assert that what reaches the socket layer is an IP literal equal
to the checked address, with the Host header still the portal's own name.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
import pytest

from probe.net.client import GuardedBackend
from probe.net.guard import AddressPolicy, RefusedAddress, resolve
from probe.settings import ConnectTo
from tests.safety.safety_helpers import counting_server


class RecordingBackend(httpcore.AnyIOBackend):
    """The real AnyIO backend, remembering the host of every connect it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.hosts.append(host)
        return await super().connect_tcp(host, port, timeout, local_address, socket_options)


def _get(backend: GuardedBackend, url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.AsyncHTTPTransport()
        transport._pool._network_backend = backend  # the same seam build_client uses
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(url)

    return asyncio.run(go())


def test_a_name_is_connected_by_its_checked_address() -> None:
    inner = RecordingBackend()
    with counting_server() as server:
        port = server.server_address[1]
        backend = GuardedBackend(AddressPolicy(allow_private=True), (), inner=inner)
        response = _get(backend, f"http://localhost:{port}/")
    assert response.status_code == 200
    checked = asyncio.run(resolve("localhost", port))
    assert inner.hosts == [str(checked[0])]
    ipaddress.ip_address(inner.hosts[0])  # a literal: the socket layer resolves nothing


def test_connect_to_keeps_the_host_header_and_checks_the_target() -> None:
    inner = RecordingBackend()
    with counting_server() as server:
        port = server.server_address[1]
        rule = ConnectTo("portal.quangbinh.gov.vn", None, "localhost", port)
        lax = GuardedBackend(AddressPolicy(allow_private=True), (rule,), inner=inner)
        response = _get(lax, "http://portal.quangbinh.gov.vn/")
        assert response.request.headers["host"] == "portal.quangbinh.gov.vn"
        assert response.status_code == 200 and inner.hosts == ["127.0.0.1"]
        strict = GuardedBackend(AddressPolicy(allow_private=False), (rule,), inner=inner)
        with pytest.raises(RefusedAddress):
            _get(strict, "http://portal.quangbinh.gov.vn/")
        assert inner.hosts == ["127.0.0.1"]  # the refused attempt never reached a socket
        assert server.connections == 1
