"""Reading and cleaning articles: titles, junk, repeats, encodings."""

from __future__ import annotations

import pytest

from helpers import SEED_FILE
from newsqa.index import ArticleCleaner, ArticleError, ArticleReader, decode_text


def test_seed_title_skips_navigation_lines():
    article = ArticleReader().read(SEED_FILE, key="seed.txt", source="seeds/seed.txt")
    assert article.title == "Top Russian, Chinese Officials To Visit North Korea in Post-Pandemic First"
    assert "Accessibility links" not in article.text
    assert "Breaking News" not in article.text


def test_seed_repeated_caption_is_kept_once():
    article = ArticleReader().read(SEED_FILE, key="seed.txt", source="seeds/seed.txt")
    caption = "In this photo taken in Pyongyang, North Korea, on July 19, 2023"
    assert SEED_FILE.read_text().count(caption) == 2
    assert article.text.count(caption) == 1


def test_every_paragraph_is_verbatim_from_the_file():
    raw = SEED_FILE.read_text()
    article = ArticleReader().read(SEED_FILE, key="seed.txt", source="seeds/seed.txt")
    for paragraph in article.text.split("\n\n"):
        assert paragraph in raw


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("Skip to content\n\nMenu\n\n# Floods close the main road\n\nWater rose overnight.", "Floods close the main road"),
        ("Short\n\nCity council approves new budget\n\nThe vote was 7-2.", "City council approves new budget"),
        ("One line only that is long enough to be a title\n\nBody text here.", "One line only that is long enough to be a title"),
        # A short title over a short lede: the lede is the story's first paragraph, not its title.
        ("Oscars recap\n\nThe academy handed out its awards on Sunday.\n\nIt was a long night.", "Oscars recap"),
        # A short title over a short story of one paragraph: the paragraph stays the body.
        ("Council report\n\nThe harbour council met on Tuesday in the customs house.", "Council report"),
    ],
)
def test_title_is_first_real_line(raw, title):
    article = ArticleCleaner().clean(raw, key="k", source="s", fallback_title="fallback")
    assert article.title == title
    assert title not in article.text and article.text


def test_a_story_of_one_paragraph_is_its_body():
    raw = "The harbour council met on Tuesday in the customs house, officials said."
    article = ArticleCleaner().clean(raw, key="k", source="s", fallback_title="harbour")
    assert (article.title, article.text) == ("harbour", raw)


def test_repeated_paragraph_dropped():
    promo = "To support the journalism behind this story, please consider a subscription."
    raw = f"A headline for the story\n\n{promo}\n\nOther text.\n\n{promo}"
    article = ArticleCleaner().clean(raw, key="k", source="s", fallback_title="f")
    assert article.text.count(promo) == 1
    assert article.skipped_paragraphs == 1


_WALL_PAGE = (
    "We will use the details you have shared to manage your registration, as described in our Privacy Policy.\n\n"
    "Would you like to receive the Daily newsletter ?\n\n"
    "If you wish to object to the use of your data in this way, please tick here.\n\n"
    "'We' includes the Gazette and its sister brands as detailed here."
)


def test_a_sign_up_wall_scraped_for_a_story_reads_as_its_headline():
    article = ArticleCleaner().clean(_WALL_PAGE, key="k", source="s", fallback_title="f",
                                     title="Minister sparks anger with magazine cover | The Gazette")
    assert article.title == "Minister sparks anger with magazine cover | The Gazette"
    assert article.text.split("\n\n") == ["Minister sparks anger with magazine cover",
                                           "'We' includes the Gazette and its sister brands as detailed here."]
    assert article.skipped_paragraphs == 3


def test_a_story_with_a_newsletter_promo_keeps_its_story():
    story = ("A headline for the story\n\nThe council met on Tuesday.\n\nMembers approved the ferry line.\n\n"
             "Sign up for our newsletter to get the day's news.")
    article = ArticleCleaner().clean(story, key="k", source="s", fallback_title="f")
    assert article.text.split("\n\n") == story.split("\n\n")[1:]


def test_a_wall_without_a_headline_of_its_own_is_kept_as_it_is():
    article = ArticleCleaner().clean(_WALL_PAGE, key="k", source="s", fallback_title="page-1234")
    assert article.title.startswith("We will use")  # its first line, as any page without a headline
    assert article.text.split("\n\n") == _WALL_PAGE.split("\n\n")[1:] and article.skipped_paragraphs == 0


def test_short_lines_a_list_repeats_are_its_facts_and_kept():
    raw = ("Richest members of Congress\n\nAna Ruiz\n\n• Party affiliation: Republican\n\n"
           "Ben Ode\n\n• Party affiliation: Republican\n\nCy Lam\n\n• Party affiliation: Democratic")
    article = ArticleCleaner().clean(raw, key="k", source="s", fallback_title="f")
    assert article.text.split("\n\n") == raw.split("\n\n")[1:] and article.skipped_paragraphs == 0


def test_same_content_same_hash_whatever_the_name():
    cleaner = ArticleCleaner()
    a = cleaner.clean("Title of the story\n\nBody.", key="a.txt", source="a.txt", fallback_title="a")
    b = cleaner.clean("Title of the story\n\nBody.", key="b.txt", source="b.txt", fallback_title="b")
    c = cleaner.clean("Title of the story\n\nBody!", key="c.txt", source="c.txt", fallback_title="c")
    assert a.content_hash == b.content_hash != c.content_hash


def test_latin1_is_decoded():
    text = "Le café de la gare a fermé. Les habitants réagissent à la décision du maire."
    assert decode_text(text.encode("latin-1")) == text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("nav.txt", b"Menu\n\nSearch\n\nBreaking News", "no text"),
        ("image.png", b"not really", "unsupported"),
    ],
)
def test_bad_files_raise_article_error(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ArticleError, match=reason):
        ArticleReader().read(path, key=name, source=name)


def test_oversized_file_rejected(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("A long story title here\n\n" + "word " * 1000)
    with pytest.raises(ArticleError, match="too large"):
        ArticleReader(max_bytes=1000).read(path, key="big.txt", source="big.txt")
