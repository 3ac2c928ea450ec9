"""Fetching an article page over HTTP(S), within bounds: time, size, type, redirects, and (for
fetches a chat user can trigger) public addresses only."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
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


# IPv6 ranges that carry (or once carried) another address inside: 6to4 (2002::/16) embeds an
# IPv4 address a relay would reach, NAT64 (64:ff9b::/96) too, and site-local (fec0::/10) is
# deprecated private space. Python's `is_global` lets some of them through.
_EMBEDDING_V6 = {"6to4": ipaddress.ip_network("2002::/16"), "NAT64": ipaddress.ip_network("64:ff9b::/96"),
                 "site-local": ipaddress.ip_network("fec0::/10"), "Teredo": ipaddress.ip_network("2001::/32")}


def forbidden_reason(address: str) -> str | None:
    """Why a fetch a chat user asked for must not connect to `address`, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address):
        for name, network in _EMBEDDING_V6.items():
            if ip in network:
                return name
    for reason in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{reason}"):
            return reason.replace("_", "-")
    return None if ip.is_global else "not public"


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses `host` resolves to (the system resolver: hosts file, then DNS), given up
    after `timeout` seconds.

    The lookup runs in a `getent ahosts` child process, killed when the time is up: the C
    resolver has no timeout a caller can set, and a lookup on a thread could not be stopped
    (each stuck one would leave a thread behind). Without `getent` (not glibc), a worker
    thread does the lookup and is left to finish on its own.

    Raises:
        TimeoutError: no answer in time.
        OSError: the name does not resolve.
    """
    try:
        return [str(ipaddress.ip_address(host.split("%", 1)[0]))]
    except ValueError:
        pass
    getent = shutil.which("getent")
    if getent is None:
        return _resolve_on_a_thread(host, port, timeout)
    try:
        result = subprocess.run([getent, "ahosts", "--", host], capture_output=True, timeout=max(timeout, 0.01),
                                stdin=subprocess.DEVNULL, env={"LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise TimeoutError(host) from None
    addresses = [line.split()[0].decode("ascii", "replace") for line in result.stdout.splitlines()
                 if line.split()[1:2] == [b"STREAM"]]
    if result.returncode != 0 or not addresses:
        raise OSError(f"the name does not resolve (getent exit status {result.returncode})")
    return list(dict.fromkeys(addresses))


def _resolve_on_a_thread(host: str, port: int, timeout: float) -> list[str]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-resolve")
    try:
        infos = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout)
    except FutureTimeout:
        raise TimeoutError(host) from None
    finally:
        pool.shutdown(wait=False)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _DeadlineStream:
    """A connection whose every wait ends at the fetch's deadline (httpcore's stream interface)."""

    def __init__(self, stream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the fetch's time is up")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        import httpcore

        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      self._left(timeout, httpcore.ConnectTimeout)), self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's network backend with one deadline for every connect, TLS handshake, read and
    write of a fetch: httpx gives its timeout to each step in full, so a slow server could
    otherwise take several times the budget."""

    def __init__(self, deadline: float) -> None:
        import httpcore

        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None):
        import httpcore

        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the fetch's time is up")
        stream = self._inner.connect_tcp(host, port, left if timeout is None else min(timeout, left),
                                         local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise NotImplementedError("article fetches use TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _client(deadline: float, headers: dict[str, str]):
    """An httpx client whose connections all end at `deadline`."""
    import httpcore
    import httpx

    transport = httpx.HTTPTransport(trust_env=False)
    # httpx has no parameter for httpcore's network backend; its pool is rebuilt with ours.
    transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                              network_backend=_DeadlineBackend(deadline))
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False, headers=headers)


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
            with _client(deadline, {"User-Agent": USER_AGENT, "Accept": ", ".join(accepted),
                                    "Accept-Encoding": "identity", **(headers or {})}) as client:
                for _ in range(self.max_redirects + 1):
                    left = deadline - time.monotonic()  # each wait gets only what is left
                    if left <= 0:
                        raise httpx.TimeoutException("deadline")
                    with ExitStack() as stack:
                        response = self._open(client, stack, self._route(current, url, left), left)
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

    @staticmethod
    def _open(client, stack: ExitStack, routes: list[tuple[str, dict[str, str], dict[str, str]]], left: float):
        """The response from the first of `routes` that takes the connection (a host's IPv6
        address may be listed first where only its IPv4 one listens)."""
        import httpx

        for number, (target, headers, extensions) in enumerate(routes, 1):
            try:
                return stack.enter_context(client.stream("GET", target, headers=headers, extensions=extensions,
                                                         timeout=left))
            except httpx.ConnectError:
                if number == len(routes):
                    raise
        raise AssertionError("no route")  # _route always returns at least one

    def _route(self, url: str, requested: str, left: float) -> list[tuple[str, dict[str, str], dict[str, str]]]:
        """Where to connect for `url`: the addresses its host resolves to (all checked when
        private addresses are refused), in the resolver's order, each with the host name kept
        for the Host header and TLS. The lookup is ours, so it too ends at the deadline."""
        import httpx

        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            if url != requested:
                raise UnsupportedUrl(f"{url}: redirected to a URL that is not http(s)")
            raise UnsupportedUrl(f"{url}: only http:// and https:// URLs can be fetched")
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            addresses = _resolve(host, port, left)
        except TimeoutError:
            raise FetchError(f"{requested}: no answer within {self.timeout:g} s (resolving {host})") from None
        except (OSError, ValueError, UnicodeError) as error:
            raise FetchError(f"{requested}: cannot resolve {host} ({error})") from None
        for address in [] if self.allow_private else addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                hop = f" (redirected to {url})" if url != requested else ""
                raise ForbiddenAddress(f"{requested}: refusing to fetch from {host}{hop}: it resolves to "
                                       f"{address}, a {reason} address")
        headers, extensions = {"Host": httpx.URL(url).netloc.decode("ascii")}, {"sni_hostname": host}
        return [(str(httpx.URL(url).copy_with(host=address.split("%", 1)[0])), headers, extensions)
                for address in addresses]

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
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in {"", "identity"}:
            # Asked for none: a compressed body could inflate far past the size cap (a bomb).
            raise UnsupportedContent(f"{url}: the server sent a {encoding}-compressed body though asked "
                                     f"for an uncompressed one")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(f"{url}: {int(declared):,} bytes is over the limit of {self.max_bytes:,}")
        body = bytearray()
        for part in response.iter_raw():  # as sent: nothing is decompressed
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
