"""A TCP proxy on loopback that holds every request for a fixed time: slow portals.

Real portals answer in hundreds of milliseconds, not nginx's fraction of one; the crawler
must then keep many portals in flight to finish a province in time. nginx cannot delay a
response by itself, so this proxy listens on each fleet address at another port and waits
`--delay` seconds before passing each chunk the client sends (one request per chunk for
HTTP/1.1 without pipelining, which is what httpx and Scrapy send), then relays the
answer untouched. Only 127.0.0.0/8 addresses are accepted.

Usage: delay_proxy.py --manifest M --listen-port 8081 --delay 1.0   (prints "ready")
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import resource


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while data := await reader.read(65536):
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


def _handler(upstream: tuple[str, int], delay: float):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_writer, delay), _pump(up_reader, writer, 0.0))

    return handle


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--listen-port", type=int, default=8081)
    ap.add_argument("--delay", type=float, default=1.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with open(a.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    servers = []
    for portal in manifest["portals"]:
        ip = portal["ip"]
        if not ipaddress.ip_address(ip).is_loopback:
            raise SystemExit(f"delay_proxy: {ip} is not a loopback address")
        handle = _handler((ip, portal["port"]), a.delay)
        servers.append(await asyncio.start_server(handle, ip, a.listen_port, backlog=256))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
