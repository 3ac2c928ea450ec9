"""Fetching an article page over HTTP(S), within bounds: time, size, type, redirects."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

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


class ResponseTooLarge(FetchError):
    """The body is larger than the size cap."""


@dataclass(frozen=True)
class FetchedPage:
    """A fetched article: `url` is where it was found after redirects."""

    url: str
    requested_url: str
    media_type: str
    charset: str | None
    body: bytes

    @property
    def suffix(self) -> str:
        return ARTICLE_MEDIA_TYPES[self.media_type]


def is_url(text: str) -> bool:
    """True for anything written as `scheme://...` (checked for http(s) by `fetch`)."""
    return "://" in text and urlsplit(text).scheme.isalpha()


class ArticleFetcher:
    """Downloads article pages with httpx: timeout, size cap, content-type check, few redirects."""

    def __init__(self, max_bytes: int = 5_000_000, timeout: float = 20.0, max_redirects: int = 5) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects

    def fetch(self, url: str) -> FetchedPage:
        """Fetch `url`; the body is read only after the status and type check out.

        Raises:
            UnsupportedUrl: not http or https, or no host.
            UnsupportedContent: not HTML, plain text or Markdown.
            ResponseTooLarge: more than `max_bytes`.
            FetchError: timeout, too many redirects, an HTTP error status, a network error.
        """
        import httpx

        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            raise UnsupportedUrl(f"{url}: only http:// and https:// URLs can be fetched")
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=True, max_redirects=self.max_redirects,
                              headers={"User-Agent": USER_AGENT, "Accept": ", ".join(ARTICLE_MEDIA_TYPES)},
                              trust_env=False) as client:
                with client.stream("GET", url) as response:
                    response.raise_for_status()
                    return self._read(url, response)
        except httpx.TooManyRedirects:
            raise FetchError(f"{url}: more than {self.max_redirects} redirects") from None
        except httpx.TimeoutException:
            raise FetchError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPStatusError as error:
            status = error.response
            raise FetchError(f"{url}: the server answered {status.status_code} {status.reason_phrase}") from None
        except httpx.UnsupportedProtocol:
            raise UnsupportedUrl(f"{url}: redirected to a URL that is not http(s)") from None
        except httpx.HTTPError as error:
            raise FetchError(f"{url}: cannot fetch ({type(error).__name__}: {error})") from None

    def _read(self, url: str, response) -> FetchedPage:
        header = response.headers.get("content-type", "")
        media_type = header.split(";")[0].strip().lower()
        if media_type not in ARTICLE_MEDIA_TYPES:
            raise UnsupportedContent(
                f"{url}: content type {media_type or '(none)'} is not an article "
                f"(expected one of {', '.join(sorted(ARTICLE_MEDIA_TYPES))})"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(f"{url}: {int(declared):,} bytes is over the limit of {self.max_bytes:,}")
        body = bytearray()
        for part in response.iter_bytes():
            body.extend(part)
            if len(body) > self.max_bytes:
                raise ResponseTooLarge(f"{url}: the body is over the limit of {self.max_bytes:,} bytes")
        return FetchedPage(url=str(response.url), requested_url=url, media_type=media_type,
                           charset=response.charset_encoding, body=bytes(body))
