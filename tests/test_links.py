"""Links for the URL shortening exercise: parsing and comparing (pure), and the redirect check
against a real local HTTP server (never the internet)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.adapters.redirects import RedirectCheck, check_redirect
from bot.core.links import host_of, on_shortener, parse_web_url, same_target

from .conftest import local_http

LONGEST = "https://example.com/" + "a" * (2048 - len("https://example.com/"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com", "https://example.com"),
        ("http://example.com/path?q=1#top", "http://example.com/path?q=1#top"),
        ("  https://bit.ly/abc \n", "https://bit.ly/abc"),
        ("HTTPS://Example.COM/A", "HTTPS://Example.COM/A"),
        ("www.example.com/x", "https://www.example.com/x"),
        ("WWW.example.com", "https://WWW.example.com"),
        ("https://sub.example.co.uk:8443/x", "https://sub.example.co.uk:8443/x"),
        ("https://example.com./", "https://example.com./"),
        ("http://192.0.2.1/x", "http://192.0.2.1/x"),
        ("http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),
        ("https://bücher.de/", "https://bücher.de/"),
        ("https://example.xn--p1ai/", "https://example.xn--p1ai/"),
        ("https://a-b.example.com/@me", "https://a-b.example.com/@me"),
        (LONGEST, LONGEST),
    ],
)
def test_parse_web_url_accepts(text: str, expected: str) -> None:
    assert parse_web_url(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ftp://example.com/file",
        "mailto:someone@example.com",
        "javascript:alert(1)",
        "JavaScript://example.com/%0aalert(1)",
        "https://exa mple.com",
        "https://example.com/a b",
        "https://example.com/a\tb",
        "https://example.com/\u202egnp.exe",
        "https://a.com https://b.com",
        "https://",
        "http:///path",
        "https://localhost/x",
        "https://example/x",
        "https://127.1/",
        "https://example.123/",
        "https://user:pass@example.com/",
        "https://bank.com@evil.example/",
        "https://-bad.com/",
        "https://exa_mple.com/",
        "https://a..com/",
        "https://[::1/",
        "https://[fe80::1%25eth0]/",
        "https://example.com:0/",
        "https://example.com:65536/",
        "https://example.com:http/",
        "example.com/x",
        LONGEST + "a",
    ],
)
def test_parse_web_url_refuses(text: str) -> None:
    assert parse_web_url(text) is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Bit.LY:8443/x", "bit.ly"),
        ("https://example.com./", "example.com"),
        ("http://[2001:DB8::1]:80/", "2001:db8::1"),
        ("www.Example.com/x", "www.example.com"),
        ("not a url", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://bit.ly/abc", True),
        ("https://www.bit.ly/abc", True),
        ("https://BIT.LY/abc", True),
        ("http://bit.ly:443/abc", True),
        ("https://bit.ly./abc", True),
        ("https://t.co/abc", True),
        ("https://notbit.ly/abc", False),
        ("https://bit.ly.evil.com/abc", False),
        ("https://sub.bit.ly/abc", False),
        ("https://evil.com/bit.ly", False),
        ("https://evil.com/?u=https://bit.ly/x", False),
        ("", False),
    ],
)
def test_on_shortener(url: str, expected: bool) -> None:
    assert on_shortener(url, ["Bit.ly", "t.co."]) is expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/page", "http://example.com/page"),
        ("https://Example.COM/page", "https://example.com/page"),
        ("https://www.example.com/page", "https://example.com/page"),
        ("https://example.com:443/page", "https://example.com/page"),
        ("http://example.com:80/page", "https://example.com/page"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/page/", "https://example.com/page"),
        ("https://example.com/page#one", "https://example.com/page#two"),
        ("https://example.com/p?a=1&b=2", "https://example.com/p?a=1&b=2"),
        ("www.example.com/page", "https://example.com/page"),
    ],
)
def test_same_target(a: str, b: str) -> None:
    assert same_target(a, b)
    assert same_target(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/page", "https://example.org/page"),
        ("https://example.com/page", "https://example.com/Page"),
        ("https://example.com/page", "https://example.com/page/2"),
        ("https://example.com/p?a=1&b=2", "https://example.com/p?b=2&a=1"),
        ("https://example.com/p?a=1", "https://example.com/p"),
        ("https://example.com:8443/page", "https://example.com/page"),
        ("https://example.com:80/page", "https://example.com/page"),
        ("https://blog.example.com/", "https://example.com/"),
        ("ftp://example.com/page", "https://example.com/page"),
        ("https://example.com:99999/", "https://example.com:99999/"),
    ],
)
def test_not_same_target(a: str, b: str) -> None:
    assert not same_target(a, b)
    assert not same_target(b, a)


@dataclass
class Server:
    """A local HTTP server that records every request it receives."""

    port: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def handle(request: web.Request) -> web.StreamResponse:
        state.seen.append((request.method, request.path))
        if request.path == "/absolute":
            return web.Response(status=301, headers={"Location": state.url("/target")})
        if request.path == "/r/relative":
            return web.Response(status=302, headers={"Location": "../target?x=1"})
        if request.path == "/slow":
            # Held until the test has its answer, so cleanup never waits on a sleeping handler.
            await asyncio.wait_for(state.release.wait(), timeout=10)
        return web.Response(text="a page")

    async with local_http(handle) as port:
        state.port = port
        try:
            yield state
        finally:
            state.release.set()


@pytest.mark.parametrize(
    ("path", "location"),
    [("/absolute", "/target"), ("/r/relative", "/target?x=1")],
)
async def test_redirect_is_reported_not_followed(server: Server, path: str, location: str) -> None:
    result = await check_redirect(server.url(path), allow_private=True)
    assert result == RedirectCheck(server.url(path), server.url(location), None)
    assert server.seen == [("HEAD", path)]


async def test_a_page_that_does_not_redirect(server: Server) -> None:
    result = await check_redirect(server.url("/page"), allow_private=True)
    assert result == RedirectCheck(server.url("/page"), None, "no_redirect")
    assert server.seen == [("HEAD", "/page")]


async def test_a_slow_server_times_out(server: Server) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await check_redirect(server.url("/slow"), timeout=0.2, allow_private=True)
    assert result.problem == "timeout" and result.location is None
    assert loop.time() - started < 2
    assert server.seen == [("HEAD", "/slow")]


async def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await check_redirect(f"http://127.0.0.1:{port}/x", allow_private=True)
    assert result == RedirectCheck(f"http://127.0.0.1:{port}/x", None, "unreachable")


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "http:///x"])
async def test_an_unusable_url_is_unreachable(url: str) -> None:
    assert (await check_redirect(url)).problem == "unreachable"


async def test_localhost_is_allowed_when_asked(server: Server) -> None:
    url = f"http://localhost:{server.port}/absolute"
    result = await check_redirect(url, allow_private=True)
    assert result.location == server.url("/target")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/absolute",
        "http://localhost:{port}/absolute",
        "http://[::1]:{port}/absolute",
        "http://[::ffff:127.0.0.1]:{port}/absolute",
        "http://127.1:{port}/absolute",
        "http://2130706433:{port}/absolute",
        "http://0x7f000001:{port}/absolute",
        "http://0.0.0.0:{port}/absolute",
        "http://10.1.2.3/x",
        "http://192.168.1.1/x",
        "http://100.64.0.1/x",
        "http://169.254.169.254/latest",
        "http://[fe80::1%25eth0]/x",
        "http://224.0.0.1/x",
    ],
)
async def test_private_addresses_are_never_contacted(server: Server, url: str) -> None:
    url = url.format(port=server.port)
    result = await check_redirect(url, timeout=2)
    assert result == RedirectCheck(url, None, "private_address")
    assert server.seen == []


def test_a_link_is_found_inside_a_sentence_once() -> None:
    from bot.core.links import find_web_url

    assert (
        find_web_url("voici le lien : https://tinyurl.com/abc, merci") == "https://tinyurl.com/abc"
    )
    assert find_web_url("www.lemonde.fr") == "https://www.lemonde.fr"
    assert find_web_url("deux liens https://a.fr et https://b.fr") is None
    assert find_web_url("pas de lien ici") is None
