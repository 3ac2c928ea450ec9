"""OPML, the feed readers' standard list format: reading a subscription list, writing ours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import formatdate

from ..errors import FeedError


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every `<outline xmlUrl=...>` of an OPML document, nested folders included, in order.

    Raises:
        FeedError: not an OPML document.
    """
    if b"<!ENTITY" in data[:4096].upper():  # no entity expansion from an imported file
        raise FeedError("the OPML file declares entities; refusing to read it")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise FeedError(f"not an OPML file ({error})") from None
    if root.tag.lower() != "opml":
        raise FeedError(f"not an OPML file (the root element is <{root.tag}>, not <opml>)")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and url not in feeds:
            title = (outline.get("title") or outline.get("text") or "").strip() or None
            feeds[url] = OpmlFeed(url, title)
    return list(feeds.values())


def write_opml(feeds: list[OpmlFeed], title: str = "newsqa feeds") -> str:
    """An OPML 2.0 document listing `feeds`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.title or feed.url,
                      title=feed.title or feed.url, xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
