"""Fetching an article page over HTTP(S), within bounds: time, size, type, redirects, and (for
fetches a chat user can trigger) public addresses only."""

from __future__ import annotations

import ipaddress
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import IndexLayerError

# Media types saved as articles, and the file suffix each is saved under.
ARTICLE_MEDIA_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
}
USER_AGENT = "newsqa/0.1 (article fetcher; +https://pypi.org/project/newsqa/)"


class FetchError(IndexLayerError):
    """A URL could not be fetched as an article."""


class UnsupportedUrl(FetchError):
    """Not an http(s) URL."""


class UnsupportedContent(FetchError):
    """The server answered with something that is not an article page (an image, a PDF...)."""


class HttpStatusError(FetchError):
    """The server answered with an error status (`status`: 404, 500...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ResponseTooLarge(FetchError):
    """The body is larger than the size cap."""


@dataclass(frozen=True)
class FetchedPage:
    """A fetched article: `url` is where it was found after redirects. A conditional fetch
    whose document has not changed comes back with `status` 304 and an empty body."""

    url: str
    requested_url: str
    media_type: str
    charset: str | None
    body: bytes
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def suffix(self) -> str:
        return ARTICLE_MEDIA_TYPES[self.media_type]


def is_url(text: str) -> bool:
    """True for anything written as `scheme://...` (checked for http(s) by `fetch`)."""
    return "://" in text and urlsplit(text).scheme.isalpha()


class ForbiddenAddress(FetchError):
    """The host resolves to a private, loopback, link-local, multicast or reserved address."""


def forbidden_reason(address: str) -> str | None:
    """Why a fetch a chat user asked for must not connect to `address`, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{reason}"):
            return reason.replace("_", "-")
    return None if ip.is_global else "not public"


def _resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """`socket.getaddrinfo`, given up after `timeout` seconds (the resolver has no timeout of
    its own that a caller can set; a stuck lookup is left to finish on its worker thread)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-resolve")
    try:
        return pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout)
    except FutureTimeout:
        raise TimeoutError(host) from None
    finally:
        pool.shutdown(wait=False)


class ArticleFetcher:
    """Downloads article pages with httpx: timeout, size cap, content-type check, few redirects.

    With `allow_private=False` (fetches that chat users can trigger) every hop's host is
    resolved first and refused when any of its addresses is not public; the connection then
    goes to the address that was checked, so a second DNS answer cannot point it elsewhere.
    """

    def __init__(self, max_bytes: int = 5_000_000, timeout: float = 20.0, max_redirects: int = 5,
                 allow_private: bool = True) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.allow_private = allow_private

    def fetch(self, url: str, *, media_types: Collection[str] | None = None,
              headers: Mapping[str, str] | None = None) -> FetchedPage:
        """Fetch `url`; the body is read only after the status and type check out. The whole
        fetch, redirects and body included, takes at most `timeout` seconds.

        Args:
            media_types: the types accepted (default: article pages; feeds pass theirs).
            headers: extra request headers, e.g. `If-None-Match` for a conditional GET
                (a 304 answer is returned as a page with `not_modified` set).

        Raises:
            UnsupportedUrl: not http or https, or no host (also after a redirect).
            ForbiddenAddress: `allow_private` is off and a hop's host is not a public address.
            UnsupportedContent: not HTML, plain text or Markdown.
            ResponseTooLarge: more than `max_bytes`.
            FetchError: timeout, too many redirects, an HTTP error status, a network error.
        """
        import httpx

        accepted = tuple(media_types) if media_types is not None else tuple(ARTICLE_MEDIA_TYPES)
        deadline = time.monotonic() + self.timeout
        current = url
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False,
                              headers={"User-Agent": USER_AGENT, "Accept": ", ".join(accepted),
                                       **(headers or {})}) as client:
                for _ in range(self.max_redirects + 1):
                    left = deadline - time.monotonic()  # each wait gets only what is left
                    if left <= 0:
                        raise httpx.TimeoutException("deadline")
                    target, headers, extensions = self._route(current, url, left)
                    with client.stream("GET", target, headers=headers, extensions=extensions,
                                       timeout=left) as response:
                        location = response.headers.get("location")
                        if response.is_redirect and location:
                            current = urljoin(current, location)
                            continue
                        if response.status_code == 304:
                            return FetchedPage(url=current, requested_url=url, media_type="", charset=None,
                                               body=b"", status=304, **_validators(response))
                        response.raise_for_status()
                        return self._read(url, current, response, deadline, accepted)
        except httpx.TimeoutException:
            raise FetchError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPStatusError as error:
            status = error.response
            raise HttpStatusError(f"{url}: the server answered {status.status_code} {status.reason_phrase}",
                                  status.status_code) from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise FetchError(f"{url}: cannot fetch ({type(error).__name__}: {error})") from None
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")

    def _route(self, url: str, requested: str, left: float) -> tuple[str, dict[str, str], dict[str, str]]:
        """Where to connect for `url`: the URL itself, or (private addresses refused) the checked
        address with the host name kept for the Host header and TLS."""
        import httpx

        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            if url != requested:
                raise UnsupportedUrl(f"{url}: redirected to a URL that is not http(s)")
            raise UnsupportedUrl(f"{url}: only http:// and https:// URLs can be fetched")
        if self.allow_private:
            return url, {}, {}
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            infos = _resolve(host, port, left)
        except TimeoutError:
            raise FetchError(f"{requested}: no answer within {self.timeout:g} s (resolving {host})") from None
        except (OSError, ValueError, UnicodeError) as error:
            raise FetchError(f"{requested}: cannot resolve {host} ({error})") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                hop = f" (redirected to {url})" if url != requested else ""
                raise ForbiddenAddress(f"{requested}: refusing to fetch from {host}{hop}: it resolves to "
                                       f"{address}, a {reason} address")
        pinned = httpx.URL(url).copy_with(host=addresses[0].split("%", 1)[0])
        return str(pinned), {"Host": httpx.URL(url).netloc.decode("ascii")}, {"sni_hostname": host}

    def _read(self, url: str, final_url: str, response, deadline: float,
              accepted: Collection[str]) -> FetchedPage:
        header = response.headers.get("content-type", "")
        media_type = header.split(";")[0].strip().lower()
        if media_type not in accepted:
            what = "an article" if set(accepted) <= set(ARTICLE_MEDIA_TYPES) else "accepted here"
            raise UnsupportedContent(
                f"{url}: content type {media_type or '(none)'} is not {what} "
                f"(expected one of {', '.join(sorted(accepted))})"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(f"{url}: {int(declared):,} bytes is over the limit of {self.max_bytes:,}")
        body = bytearray()
        for part in response.iter_bytes():
            body.extend(part)
            if len(body) > self.max_bytes:
                raise ResponseTooLarge(f"{url}: the body is over the limit of {self.max_bytes:,} bytes")
            if time.monotonic() > deadline:  # a server dripping bytes never trips the read timeout
                raise FetchError(f"{url}: no answer within {self.timeout:g} s")
        return FetchedPage(url=final_url, requested_url=url, media_type=media_type,
                           charset=response.charset_encoding, body=bytes(body), **_validators(response))


def _validators(response) -> dict[str, str | None]:
    """The response's cache validators, for the next conditional GET."""
    return {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
