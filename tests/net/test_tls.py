"""HTTPS portals: certificate facts recorded, verification failures are `tls_error`."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probe.net.client import ENGINES
from probe.settings import ConnectTo, Settings
from tests.net.net_faults import FaultServer, run_crawl, run_fetch

pytestmark = [
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI"),
    pytest.mark.parametrize("engine", ENGINES),
]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultServer, Path]]:
    """A fault server behind TLS with a self-signed certificate for site.test."""
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=site.test/O=Probe Test CA",
         "-addext", "subjectAltName=DNS:site.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = FaultServer(tls=ctx).start()
    yield server, cert
    server.stop()


def _settings(settings: Settings, port: int, ca: Path | None) -> Settings:
    return settings.with_(
        connect_to=(ConnectTo("", None, "127.0.0.1", port),),
        retry_backoff=0.01,
        ca_bundle=str(ca) if ca else "",
    )


def test_valid_certificate_recorded(
    tls_server: tuple[FaultServer, Path], settings: Settings, engine: str
) -> None:
    server, cert = tls_server
    site = run_crawl(_settings(settings, server.port, cert), "https://site.test/", engine=engine)
    assert site.outcome == "checked"
    assert site.tls is not None and site.tls.valid
    now = datetime.now(UTC)
    assert site.tls.not_after is not None
    assert now < site.tls.not_after < now + timedelta(days=31)  # the -days 30 certificate
    assert "Probe Test CA" in site.tls.issuer and "site.test" in site.tls.subject


def test_untrusted_certificate_is_tls_error(
    tls_server: tuple[FaultServer, Path], settings: Settings, engine: str
) -> None:
    server, _ = tls_server
    result = run_fetch(_settings(settings, server.port, None), "https://site.test/", engine=engine)
    assert result.error == "tls_error" and "certificate" in result.message.lower()
    assert result.attempts == 1  # a certificate does not get better by retrying
    site = run_crawl(_settings(settings, server.port, None), "https://site.test/", engine=engine)
    assert site.outcome == "tls_error" and site.reason is not None
    assert site.tls is not None and not site.tls.valid and site.tls.error


def test_name_mismatch_is_tls_error(
    tls_server: tuple[FaultServer, Path], settings: Settings, engine: str
) -> None:
    """SNI and verification use the real host name, not the --connect-to address."""
    server, cert = tls_server
    result = run_fetch(_settings(settings, server.port, cert), "https://other.test/", engine=engine)
    assert result.error == "tls_error" and "other.test" in result.message
