"""Web links for the URL shortening exercise: recognise one, name its host, compare two. Pure.

Nothing here touches the network: whether a short link really redirects is
`bot.adapters.redirects`' business.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
Problem = Literal["private_address", "unreachable", "timeout", "no_redirect"]


@dataclass(frozen=True, slots=True)
class RedirectCheck:
    """What one HEAD request told about `url`: where it redirects, or why not (the
    request itself is `bot.adapters.redirects.check_redirect`)."""

    url: str
    location: str | None
    problem: Problem | None


_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Unicode letters and digits are allowed so that pasted IDN links (bücher.de) pass too.
_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")
_PUNYCODE_TLD = re.compile(r"^xn--[a-z0-9-]{1,59}$")


def _with_scheme(text: str) -> str:
    # People paste links copied from print or from a friend's message without the scheme,
    # but only the `www.` form is unambiguous enough to guess (`notes.txt` is not a site).
    return "https://" + text if text[:4].lower() == "www." else text


def _valid_host(split: SplitResult) -> bool:
    host = split.hostname
    if not host or "%" in host:  # an IPv6 zone only means something on the sender's machine
        return False
    if split.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    tld = labels[-1]
    # A letters-only TLD rules out both `localhost` and half-typed numbers such as `127.1`.
    return (len(tld) >= 2 and tld.isalpha()) or bool(_PUNYCODE_TLD.match(tld))


def parse_web_url(text: str) -> str | None:
    """The link if `text` is exactly one absolute http(s) URL with a real host, else None.

    `www.example.com/x` is accepted as `https://www.example.com/x`.
    """
    text = _with_scheme(text.strip())
    if not text or len(text) > MAX_URL_LENGTH:
        return None
    # urlsplit silently drops tabs and newlines, so they must be refused before it sees them;
    # invisible format characters (bidi overrides, zero-width spaces) can disguise a link.
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in text):
        return None
    try:
        split = urlsplit(text)
        port = split.port
    except ValueError:  # a bad port or unbalanced brackets
        return None
    if split.scheme not in _SCHEMES:
        return None
    # `https://bank.com@evil.example` reads as bank.com to a person but goes to evil.example.
    if "@" in split.netloc or (port is not None and not 1 <= port <= 65535):
        return None
    return text if _valid_host(split) else None


def find_web_url(text: str) -> str | None:
    """The link in `text`: the whole text, or the one word of it that is a link ("voici
    le lien : https://tinyurl.com/abc merci"); None when there is none, or several."""
    whole = parse_web_url(text)
    if whole is not None or len(text) > MAX_URL_LENGTH * 2:
        return whole
    found = {u for word in text.split() if (u := parse_web_url(word.strip(".,;:!?()«»\"'")))}
    return found.pop() if len(found) == 1 else None


def host_of(url: str) -> str:
    """The URL's host, lowercase, without port, brackets or trailing dot ("" if none)."""
    try:
        host = urlsplit(_with_scheme(url.strip())).hostname
    except ValueError:
        return ""
    return (host or "").rstrip(".")


def on_shortener(url: str, domains: Iterable[str]) -> bool:
    """True when the URL's host is one of `domains` or its `www.` form, ignoring case.

    Subdomains other than `www.` do not count: `bit.ly.evil.com` is not on bit.ly.
    """
    host = host_of(url)
    if not host:
        return False
    for domain in domains:
        domain = domain.strip().lower().rstrip(".")
        if domain and host in (domain, "www." + domain):
            return True
    return False


def _page_key(url: str) -> tuple[str, str, int | None, str, str] | None:
    try:
        split = urlsplit(_with_scheme(url.strip()))
        port = split.port
    except ValueError:
        return None
    scheme = split.scheme.lower()
    host = (split.hostname or "").rstrip(".").removeprefix("www.")
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    # Every site serves the same page over http and https nowadays; one redirects to the other.
    if scheme in _SCHEMES:
        scheme = "http"
    return scheme, host, port, split.path.rstrip("/"), split.query


def same_target(a: str, b: str) -> bool:
    """Whether two URLs show a person the same page.

    http and https, the host's case, a `www.` prefix, default ports, a trailing slash and
    the fragment make no difference; the query string must match exactly.
    """
    key_a, key_b = _page_key(a), _page_key(b)
    return key_a is not None and key_a == key_b
