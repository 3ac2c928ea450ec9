"""robots.txt for article pages: fetched once per host per poll, read with urllib.robotparser."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..articles import decode_text
from ..errors import ArticleError
from ..fetch import USER_AGENT, ArticleFetcher, FetchError, ForbiddenAddress, HttpStatusError, UnsupportedContent


class RobotsRules:
    """Whether newsqa may fetch a page, by its site's robots.txt (cached per site).

    A robots.txt that is missing (any 4xx) or unreadable allows everything, as crawlers do;
    a server error (5xx) or no answer disallows the site for this poll (RFC 9309, 2.3.1.3-4).
    """

    def __init__(self, fetcher: ArticleFetcher, user_agent: str = USER_AGENT) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self._sites: dict[str, RobotFileParser | ForbiddenAddress | None] = {}

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets newsqa fetch `url`.

        Raises:
            ForbiddenAddress: the site may not be fetched at all (a chat feed's private address).
        """
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self._sites:
            self._sites[site] = self._load(site)
        parser = self._sites[site]
        if isinstance(parser, ForbiddenAddress):
            raise parser
        return parser is None or parser.can_fetch(self.user_agent, url)

    def _load(self, site: str) -> RobotFileParser | ForbiddenAddress | None:
        parser = RobotFileParser(f"{site}/robots.txt")
        try:
            page = self.fetcher.fetch(f"{site}/robots.txt", media_types=("text/plain",))
        except ForbiddenAddress as error:
            return error  # said as it is, not as "robots.txt disallows"
        except UnsupportedContent:
            return None  # served as something else: no rules
        except FetchError as error:
            if isinstance(error, HttpStatusError) and 400 <= error.status < 500:
                return None
            parser.disallow_all = True
            return parser
        try:
            parser.parse(decode_text(page.body, page.charset).splitlines())
        except ArticleError:
            return None
        return parser
