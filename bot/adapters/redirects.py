"""Does a short link redirect, and where to? One HEAD request, never to a private address.

The URL comes from a user, so the check must not become a way to probe the bot's own
network (SSRF): IP literals are vetted before connecting, and names are vetted by the
resolver the connection itself uses, so no second DNS answer can slip in between.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.core.links import Problem, RedirectCheck


def _allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # what cannot be vetted is not connected to
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever older Pythons say
    # is_global also catches shared space (100.64/10) and documentation ranges the flags miss.
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class _PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp's default, but refuses a name if any address is not public."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self.refused = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        # One bad address is enough: the connection may try any of them.
        if not results or not all(_allowed(r["host"]) for r in results):
            self.refused = True
            raise OSError(f"{host} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def _literal_refused(url: str) -> bool:
    try:
        host = URL(url).raw_host
    except ValueError:
        return False  # aiohttp will refuse the URL itself
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # aiohttp skips the resolver for anything with a colon or only digits and dots
        # (`127.1`), so those would never reach our check: refuse them here.
        return ":" in host or host.replace(".", "").isdigit()
    return not _allowed(host)


async def check_redirect(
    url: str, *, timeout: float = 5.0, allow_private: bool = False
) -> RedirectCheck:
    """Send one HEAD request to `url` without following redirects, and report the answer.

    Never raises for network trouble: an unusable URL or a failed connection is
    "unreachable", running out of `timeout` seconds (in all) is "timeout".
    """
    if not allow_private and _literal_refused(url):
        return RedirectCheck(url, None, "private_address")
    resolver: AbstractResolver = (
        aiohttp.ThreadedResolver() if allow_private else _PublicOnlyResolver()
    )
    problem: Problem
    try:
        # The session does not trust the environment: a proxy would resolve names itself.
        connector = aiohttp.TCPConnector(resolver=resolver, force_close=True)
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as session,
            session.head(url, allow_redirects=False) as response,
        ):
            location = response.headers.get("Location")
            if 300 <= response.status < 400 and location:
                return RedirectCheck(url, urljoin(url, location), None)
            return RedirectCheck(url, None, "no_redirect")
    except TimeoutError:  # aiohttp's own timeout errors derive from it
        problem = "timeout"
    except (aiohttp.ClientError, OSError, ValueError):
        problem = "unreachable"
    finally:
        await resolver.close()
    if isinstance(resolver, _PublicOnlyResolver) and resolver.refused:
        problem = "private_address"
    return RedirectCheck(url, None, problem)
