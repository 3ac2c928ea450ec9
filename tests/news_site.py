"""A small news site on 127.0.0.1 for the feed tests: RSS 2.0, RSS 1.0 and Atom feeds with
conditional GET, article pages, a robots.txt, a malformed feed, a feed that starts failing,
and one wire story on two feeds. Every request is logged for the tests to check."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from xml.sax.saxutils import escape

from helpers import PageHandler

BRIDGE = [
    "The Harbour Bridge in Portwell reopened to traffic on Monday after eight months of repairs "
    "to its steel deck and cables.",
    "City engineer Ingrid Vasquez said the new deck was designed to last fifty years with routine "
    "maintenance, and that the repairs came in under the budget of 14 million pounds.",
    "Cyclists get a separate lane on the eastern side, which the council approved last spring after "
    "a long campaign by residents of the harbour district.",
]
COUNCIL = [
    "The Lowe district council voted on Thursday to build a new public library on the site of the "
    "old bus depot in Market Street.",
    "Council leader Amara Okafor said the library would open in the autumn of next year and hold "
    "a reading room for sixty people.",
    "Opposition members argued that the money should have gone to repairing the swimming baths, "
    "which have been closed since the winter floods.",
]
FERRY = ("The night ferry between Skarn and Lowe returned to service on Friday with a new vessel, "
         "the Northern Tern, captained by Harriet Quayle.\n\n"
         "The crossing now takes three hours, half an hour less than before, and runs every night "
         "except Sunday.\n")
# Only the feed carries this story's full text: its page is behind robots.txt.
ORCHARD = ("The Brannock orchard cooperative picked a record harvest of nine hundred tonnes of apples "
           "this autumn, its chairman Tobias Wren said on Wednesday. The cooperative credits a mild "
           "spring and new frost fans bought with a regional grant two years ago. Most of the crop "
           "goes to cider makers in the valley, while a fifth is sold fresh at markets in Portwell "
           "and Lowe. Wren said the cooperative would hire twelve more pickers next season and open "
           "a pressing shed of its own, so that members no longer have to send their apples across "
           "the border to be pressed.")
STORM = [
    "A storm with winds of up to 120 kilometres an hour cut power to forty thousand homes along the "
    "northern coast, the regional grid operator said Tuesday.",
    "Crews restored electricity to most homes by the evening, but some villages in the hills could "
    "stay without power until the weekend, according to the operator's spokeswoman Lena Marsh.",
    "Two coastal roads were closed because of fallen trees, and the ferry service between Skarn and "
    "Lowe was suspended for the day as waves reached six metres.",
    "Forecasters expect calmer weather from Thursday, though heavy rain may still cause local flooding "
    "in low-lying parts of the valley.",
]
# The same wire story as another site runs it: "said on Tuesday", a line of boilerplate added.
STORM_EDITED = [STORM[0].replace("said Tuesday", "said on Tuesday"), *STORM[1:],
                "This story has been updated with the latest figures."]


def page(title: str, paragraphs: list[str], date: str | None = None) -> bytes:
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{escape(title)}</title>{meta}</head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>{body}</article>"
            f"<footer>Copyright Portwell News</footer></body></html>").encode()


def rss(items: list[dict], title: str = "Portwell News") -> bytes:
    parts = []
    for item in items:
        fields = [f"<title>{escape(item['title'])}</title>"]
        if item.get("link"):
            fields.append(f"<link>{item['link']}</link><guid>{item['link']}</guid>")
        if item.get("date"):
            fields.append(f"<pubDate>{item['date']}</pubDate>")
        if item.get("summary"):
            fields.append(f"<description>{escape(item['summary'])}</description>")
        if item.get("content"):
            fields.append(f"<content:encoded><![CDATA[<p>{item['content']}</p>]]></content:encoded>")
        if item.get("author"):
            fields.append(f"<dc:creator>{escape(item['author'])}</dc:creator>")
        parts.append(f"<item>{''.join(fields)}</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>{escape(title)}</title>'
            f"<link>http://portwell.example/</link><description>News</description>{''.join(parts)}"
            f"</channel></rss>").encode()


def atom(entries: list[dict], title: str = "Lowe Courier") -> bytes:
    parts = "".join(
        f"<entry><title>{escape(e['title'])}</title><link rel='alternate' href='{e['link']}'/>"
        f"<id>{e['link']}</id><updated>{e['date']}</updated><summary>{escape(e['summary'])}</summary>"
        f"<author><name>{escape(e.get('author', 'Courier staff'))}</name></author></entry>"
        for e in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:lowe-courier</id><updated>2024-03-07T10:00:00Z</updated>"
            f"{parts}</feed>").encode()


def rdf(items: list[dict], title: str = "Skarn Weekly") -> bytes:
    parts = "".join(
        f'<item rdf:about="{i["link"]}"><title>{escape(i["title"])}</title><link>{i["link"]}</link>'
        f"<description>{escape(i['summary'])}</description><dc:date>{i['date']}</dc:date></item>"
        for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rdf:RDF '
            f'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="http://skarn.example/">'
            f"<title>{escape(title)}</title><link>http://skarn.example/</link><description>Weekly</description>"
            f"</channel>{parts}</rdf:RDF>").encode()


@dataclass
class Request:
    path: str
    status: int
    if_none_match: str | None
    user_agent: str | None


class NewsSite(ThreadingHTTPServer):
    """The site's content and switches; `requests` logs every request in order."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.flaky_failing = False
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self._build()

    def _build(self) -> None:
        b = self.base
        self.routes = {
            "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
            "/": ("text/html", (f'<!doctype html><html><head><title>Portwell News</title>'
                                f'<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">'
                                f"</head><body><p>Welcome</p></body></html>").encode()),
            "/about.html": ("text/html", page("About us", ["We are a small newsroom in Portwell."])),
            "/rss.xml": ("application/rss+xml", rss([
                {"title": "Harbour bridge reopens after repairs", "link": f"{b}/news/bridge.html",
                 "date": "Mon, 04 Mar 2024 09:00:00 GMT", "summary": "The bridge is open again.",
                 "author": "Dana Reyes"},
                {"title": "Record apple harvest for Brannock orchards", "link": f"{b}/private/orchard.html",
                 "date": "Wed, 06 Mar 2024 08:00:00 GMT", "summary": "A record harvest.", "content": ORCHARD},
                {"title": "Subscribers only: the mayor's diary", "link": f"{b}/private/diary.html",
                 "date": "Wed, 06 Mar 2024 09:00:00 GMT", "summary": "Read the mayor's diary."},
                {"title": "An entry without a link", "summary": "Nothing to follow here."},
                {"title": "Storm cuts power to 40,000 homes", "link": f"{b}/wire/storm.html",
                 "date": "Tue, 05 Mar 2024 18:00:00 GMT", "summary": "A storm hit the coast."},
            ])),
            "/atom.xml": ("application/atom+xml", atom([
                {"title": "Council votes for a new library", "link": f"{b}/courier/library.html",
                 "date": "2024-03-07T08:30:00Z", "summary": "The council has voted.", "author": "Sam Hale"},
                {"title": "Tens of thousands lose power in coastal storm", "link": f"{b}/courier/storm-wire",
                 "date": "2024-03-05T19:00:00Z", "summary": "Power cuts on the coast."},
            ])),
            "/rdf.xml": ("application/rdf+xml", rdf([
                {"title": "Night ferry back in service", "link": f"{b}/skarn/ferry.txt",
                 "summary": "The ferry is back.", "date": "2024-03-08T07:00:00Z"},
            ])),
            "/broken.xml": ("application/rss+xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bro'
                                                   b"ken</title><item><title>Half an item</ti"),
            "/flaky.xml": ("application/rss+xml", rss([
                {"title": "Portwell page", "link": f"{b}/about.html", "summary": "About."}], "Flaky Times")),
            "/news/bridge.html": ("text/html", page("Harbour bridge reopens after repairs", BRIDGE, "2024-03-04")),
            "/private/orchard.html": ("text/html", page("Orchard", [ORCHARD])),
            "/private/diary.html": ("text/html", page("Diary", ["Secret."])),
            "/wire/storm.html": ("text/html", page("Storm cuts power to 40,000 homes", STORM)),
            "/courier/library.html": ("text/html", page("Council votes for a new library", COUNCIL)),
            "/courier/storm-wire": ("text/html", page("Tens of thousands lose power in coastal storm",
                                                      STORM_EDITED)),
            "/skarn/ferry.txt": ("text/plain; charset=utf-8", FERRY.encode()),
        }

    def add_route(self, path: str, content_type: str, body: bytes) -> None:
        with self.lock:
            self.routes[path] = (content_type, body)

    def paths(self, start: int = 0) -> list[str]:
        with self.lock:
            return [request.path for request in self.requests[start:]]

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(PageHandler):
    server: NewsSite

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        site = self.server
        if self.path == "/slow.xml":  # a feed that never answers in time
            time.sleep(3)
        with site.lock:
            route = site.routes.get(self.path)
            failing = self.path == "/flaky.xml" and site.flaky_failing
        etag = None
        if failing:
            status, content_type, body = 500, "text/plain", b"internal error"
        elif route is None:
            status, content_type, body = 404, "text/plain", b"not found"
        else:
            content_type, body = route
            status = 200
            if self.path.endswith((".xml",)):
                etag = f'"{abs(hash(body)) % 10**12}"'
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
        with site.lock:
            site.requests.append(Request(self.path, status, self.headers.get("If-None-Match"),
                                         self.headers.get("User-Agent")))
        validators = {"ETag": etag, "Last-Modified": formatdate(1709888400, usegmt=True)} if etag else None
        self.send_page(body, content_type, status, validators)


def serve() -> NewsSite:
    """Start a site in a daemon thread; call `shutdown()` when done."""
    site = NewsSite()
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site
