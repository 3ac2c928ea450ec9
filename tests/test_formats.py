"""Article formats without the model: HTML extraction, encodings, front matter, origins, safe names."""

from __future__ import annotations

import pytest

from helpers import MARKERS, html_page
from newsqa.index import ArticleError, ArticleInbox, ArticleOrigin, ArticleReader, FetchedPage, decode_text
from newsqa.index.front_matter import read_front_matter, render_front_matter, split_front_matter
from newsqa.index.inbox import safe_stem, url_stem

@pytest.mark.parametrize("charset", ["utf-8", "windows-1252", "ISO-8859-1"])
def test_html_page_keeps_the_article_and_its_metadata_only(tmp_path, charset):
    path = tmp_path / "bridge.html"
    path.write_bytes(html_page(charset))
    article = ArticleReader().read(path, key="bridge.html", source="articles/bridge.html")
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.published == "2024-03-04"
    assert article.author == "Ana Müller"
    assert article.url == "https://gazette.example/news/bridge-reopens"
    assert article.source == "articles/bridge.html"
    assert "attended by residents of the café district." in article.text
    assert article.text.startswith("The Harbour Bridge in Port Elms reopened")
    assert not any(marker in article.text or marker in article.title for marker in MARKERS)


def test_html_without_article_text_is_refused(tmp_path):
    path = tmp_path / "empty.htm"
    path.write_text("<html><head><script>var x = 1;</script></head><body><nav>Home</nav></body></html>")
    with pytest.raises(ArticleError, match="no article text|no text left"):
        ArticleReader().read(path, key="empty.htm", source="empty.htm")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Le café de la gare a fermé. José Núñez, maire de Zürich, a réagi à la décision.", "latin-1"),
        ("Señor Peña visitó Málaga.\n\nFrançoise Dupré praised the façade.", "latin-1"),
        ("“Nobody expected this,” said the minister – costs rose by 5 € per tonne.", "cp1252"),
        ("Москва сегодня объявила о новых мерах поддержки для жителей города.", "cp1251"),
        ("Der Bürgermeister sagte, die Straße werde nächste Woche geöffnet.", "utf-8"),
    ],
)
def test_legacy_encodings_are_decoded(text, encoding):
    assert decode_text(text.encode(encoding)) == text


def test_declared_charset_wins_and_bom_is_honoured():
    assert decode_text("Grüße".encode("cp1252"), declared="windows-1252") == "Grüße"
    assert decode_text("Grüße".encode("utf-8-sig")) == "Grüße"
    assert decode_text("Grüße".encode("cp1252"), declared="no-such-charset") == "Grüße"


def test_front_matter_gives_title_date_author(tmp_path):
    path = tmp_path / "vote.md"
    path.write_text("---\ntitle: Council approves the budget\ndate: 2024-05-01T10:00:00+02:00\n"
                    "author: Jo Park\n---\nThe vote was seven to two.\n\nThe mayor abstained.\n")
    article = ArticleReader().read(path, key="vote.md", source="vote.md")
    assert (article.title, article.published, article.author) == ("Council approves the budget", "2024-05-01", "Jo Park")
    assert article.text == "The vote was seven to two.\n\nThe mayor abstained."
    assert split_front_matter("---\n\nA rule, not front matter\n---\n")[0] == {}


@pytest.mark.parametrize("title", [
    "Breaking: storm hits the coast", '"Quoted" headline', "Yes", "2024", "It's a \\ back-slashed \"title\"",
    "Grüße aus Köln", "  spaced   out  ",
])
def test_front_matter_reads_back_what_was_written(title):
    block = render_front_matter({"title": title, "published": "2024-05-01", "url": "https://news.example/a?b=1#c",
                                 "author": None})
    meta, body = split_front_matter(block + "Body text.\n")
    assert meta == {"title": " ".join(title.split()), "published": "2024-05-01", "url": "https://news.example/a?b=1#c"}
    assert body == "Body text.\n"


@pytest.mark.parametrize(("line", "title"), [
    ('title: "Washington bans sales of \\"assault weapons\\""', 'Washington bans sales of "assault weapons"'),  # YAML escapes
    ("title: 'It''s done'", "It's done"),
    ("title: Breaking: storm hits", "Breaking: storm hits"),  # not YAML: read as written
    ("title: Yes", "Yes"),  # YAML 1.1 would make it a boolean
    ("title: [Ana, Ben]", "Ana, Ben"),
])
def test_front_matter_titles_as_their_authors_meant(line, title):
    assert split_front_matter(f"---\n{line}\n---\nBody.\n")[0]["title"] == title


@pytest.mark.parametrize("block", [
    # Jekyll: a list of tags, a date with its time and zone
    "title: Council approves the budget\ntags:\n  - politics\n  - city\ndate: 2024-05-01 10:00:00 +0200\n",
    # Hugo: publishDate, categories as a flow list, a comment, a blank line
    "title: Council approves the budget\n\ncategories: [politics]\n# draft: true\npublishDate: 2024-05-01\n",
    # a folded title, an author as a mapping, a list at the key's indentation
    "title: >-\n  Council approves\n  the budget\nauthor:\n  name: Jo Park\nkeywords:\n- vote\npublished_at: 2024-05-01\n",
])
def test_front_matter_as_site_generators_write_it_is_never_indexed(tmp_path, block):
    path = tmp_path / "vote.md"
    path.write_text(f"---\n{block}---\nThe vote was seven to two.\n")
    article = ArticleReader().read(path, key="vote.md", source="vote.md")
    assert (article.title, article.published, article.text) == (
        "Council approves the budget", "2024-05-01", "The vote was seven to two.")


def test_front_matter_lists_give_their_own_items_only():
    # Aliases nest a few lines into 9**6 copies of "lol": flattened, the title alone would be
    # 2.6 MB (and at 9 levels, billions of items, the indexer would never finish).
    nest = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    nest += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 6)]
    meta, body = split_front_matter("---\n" + "\n".join(nest) + "\ntitle: [*a5, Storm]\nauthor: *a5\n"
                                    "published: [2024-05-01, 2024-05-02]\n---\nBody.\n")
    assert meta == {"title": "Storm", "published": "2024-05-01"} and body == "Body.\n"


@pytest.mark.parametrize("block, problem", [
    ("published: 2024-13-45", "'published: 2024-13-45'"),  # YAML refuses the timestamp: read as written
    ("date: next Tuesday", "'date: next Tuesday'"),
    ("date: 0001-01-01", "'date: 0001-01-01'"),  # a placeholder, not a publication day
    ("date: soon\npublished: 2024-05-01", None),  # another key gives the day
    ("published: 2024-05-01T09:30:00Z", None),
    ("published: ''", None),  # left empty: nothing misread
])
def test_a_front_matter_date_that_is_no_day_is_a_problem_not_a_date(block, problem):
    front = read_front_matter(f"---\ntitle: Storm\n{block}\n---\nBody.\n")
    assert front.body == "Body.\n" and front.fields["title"] == "Storm"
    if problem is None:
        assert not front.problems
    else:
        assert "published" not in front.fields
        assert len(front.problems) == 1 and problem in front.problems[0] and "undated" in front.problems[0]


def test_a_rule_around_prose_is_not_front_matter():
    text = "---\nUpdate: the mayor resigned.\n\nThe council met on Monday.\n---\nBody.\n"
    assert split_front_matter(text) == ({}, text)


def test_origin_sidecar_makes_the_url_the_source(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(html_page("windows-1252"))
    ArticleOrigin(url="https://news.example/bridge", charset="windows-1252").save(path)
    assert ArticleOrigin.sidecar(path).name.startswith(".")
    article = ArticleReader().read(path, key="page.html", source="articles/page.html")
    assert article.source == article.url == "https://news.example/bridge"
    assert "café district" in article.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/../../etc/passwd",
        "http://h/%2e%2e%2f%2e%2e%2fevil.html",
        "http://h/.bashrc",
        "http://h/a%2Fb%00c/..%5C..%5Cwin.html",
        "http://h/" + "x" * 500,
        "http://h/",
    ],
)
def test_names_made_from_urls_stay_inside_the_articles_folder(tmp_path, url):
    inbox = ArticleInbox(tmp_path)
    page = FetchedPage(url=url, requested_url=url, media_type="text/html", charset=None, body=html_page())
    saved = inbox.save_page(page)
    assert saved.path.parent == tmp_path.resolve()
    assert not saved.path.name.startswith(".") and len(saved.path.name) < 100
    assert saved.source == url
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [saved.path.name, ArticleOrigin.sidecar(saved.path).name])
    assert url_stem(url) == url_stem(url) and "/" not in url_stem(url)


def test_safe_stem_never_hidden_or_dotdot():
    for name in ("..", "../../x", ".bashrc", "a/../../b", "\x00", ""):
        stem = safe_stem(name)
        assert stem and not stem.startswith(".") and ".." not in stem and "/" not in stem


def test_copy_file_renames_on_clash_and_refuses_junk(tmp_path):
    folder, outside = tmp_path / "articles", tmp_path / "in"
    folder.mkdir()
    outside.mkdir()
    inbox = ArticleInbox(folder)
    first = outside / "story.txt"
    first.write_text("A bridge story for the test\n\nThe bridge reopened on Monday.")
    assert inbox.copy_file(first).path.name == "story.txt"
    assert inbox.copy_file(first).unchanged
    first.write_text("A bridge story for the test\n\nThe bridge closed again on Friday.")
    assert inbox.copy_file(first).path.name == "story-2.txt"
    (outside / "nav.txt").write_text("Menu\n\nSearch")
    (outside / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    for name, reason in (("nav.txt", "no text"), ("photo.jpg", "unsupported"), ("missing.txt", "no such file")):
        with pytest.raises(ArticleError, match=reason):
            inbox.copy_file(outside / name)
    assert sorted(p.name for p in folder.iterdir()) == ["story-2.txt", "story.txt"]
