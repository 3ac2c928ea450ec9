"""Dates end to end: front matter, the as-of day, "this week", and `ask --as-of` / JSON lines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import cli
from newsqa.index import ArticleReader, IndexBuilder, IndexReader, PublishedWindow, iso_date
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.timeframe import time_frame

# Two weeks of the same running story: the bridge engineer changes between them.
WEEK_ONE = ("2024-03-04", "Harbour Bridge reopens after deck repairs",
            "The Harbour Bridge reopened on Monday after repairs to the Harbour Bridge deck. "
            "Bridge engineer Tomas Varga said the cables were replaced.\n\n"
            "Traffic returned to normal by the evening rush hour, city officials said.")
WEEK_TWO = ("2024-03-11", "Harbour Bridge gets a new chief engineer",
            "The Harbour Bridge authority named Ana Ruiz as its new bridge engineer on Tuesday. "
            "She replaces the engineer who oversaw the deck repairs.\n\n"
            "The authority said the appointment takes effect at once.")
UNDATED = ("", "Ferry timetables change", "The harbour ferry will run every twenty minutes from May. "
           "Ferry operator Lina Holm announced the change at a meeting with commuters.")


def _write(folder: Path, name: str, published: str, title: str, body: str) -> None:
    front = f"---\ntitle: \"{title}\"\n" + (f"published: {published}\n" if published else "") + \
        "url: https://news.example.org/" + name + "\nauthor: Desk\n---\n"
    (folder / f"{name}.md").write_text(front + body + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def dated_answerer(tmp_path_factory, encoder) -> QuestionAnswerer:
    articles = tmp_path_factory.mktemp("dated-articles")
    for name, (published, title, body) in {"week1": WEEK_ONE, "week2": WEEK_TWO, "ferry": UNDATED}.items():
        _write(articles, name, published, title, body)
    index = tmp_path_factory.mktemp("dated-index")
    IndexBuilder(index, encoder).update(articles)
    return QuestionAnswerer(IndexReader(index), encoder)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-04", "2024-03-04"),
    ("2024-03-04T09:30:00Z", "2024-03-04"),
    ("2024-03-04 23:59:00+05:00", "2024-03-04"),
    ("Mon, 04 Mar 2024 09:30:00 GMT", "2024-03-04"),
    ("March 4, 2024", "2024-03-04"),
    ("2024-02-30", None),
    ("last Tuesday", None),
    ("", None),
    ("0001-01-01", None),
    (date(2024, 3, 4), "2024-03-04"),
])
def test_iso_date_accepts_the_usual_forms_and_nothing_else(value, expected):
    assert iso_date(value) == expected


def test_window_keeps_undated_articles_and_bounds_dated_ones():
    window = PublishedWindow(since="2024-03-01", until="2024-03-10")
    assert window.holds(None) and window.holds("someday")
    assert window.holds("2024-03-01") and window.holds("2024-03-10")
    assert not window.holds("2024-02-29") and not window.holds("2024-03-11")
    with pytest.raises(ValueError):
        PublishedWindow(until="March 10")


def test_front_matter_is_metadata_not_text(tmp_path):
    _write(tmp_path, "story", "2024-03-11T08:00:00+01:00", *WEEK_TWO[1:])
    article = ArticleReader().read(tmp_path / "story.md", key="story.md", source="story.md")
    assert article.published == "2024-03-11"
    assert article.title == WEEK_TWO[1]
    assert article.url == "https://news.example.org/story" and article.author == "Desk"
    assert "published" not in article.text and "---" not in article.text
    assert article.text.startswith("The Harbour Bridge authority")


@pytest.mark.parametrize("published", ["sometime soon", "2023-13-45", "2023-02-30", "2023-02-28 25:61:00"])
def test_a_front_matter_date_nobody_can_read_leaves_the_article_undated(tmp_path, published):
    # The last three look like YAML timestamps, which PyYAML turns into dates and fails on.
    (tmp_path / "odd.md").write_text(f"---\ntitle: Odd\npublished: {published}\n---\nBody text here.\n")
    article = ArticleReader().read(tmp_path / "odd.md", key="odd.md", source="odd.md")
    assert article.published is None and article.title == "Odd" and article.text == "Body text here."


def test_as_of_never_quotes_a_later_article(dated_answerer):
    early = dated_answerer.ask("Who is the bridge engineer of the Harbour Bridge?", k=5, as_of=date(2024, 3, 5))
    assert early.found
    assert all(a.published in (None, "2024-03-04") for a in early.answers)
    assert "Tomas Varga" in early.answers[0].quote
    assert early.answers[0].published == "2024-03-04"


def test_this_week_means_the_week_before_as_of(dated_answerer):
    late = dated_answerer.ask("Who was named bridge engineer of the Harbour Bridge this week?", k=5,
                              as_of=date(2024, 3, 13))
    assert late.found and "Ana Ruiz" in late.answers[0].quote
    assert late.answers[0].published == "2024-03-11"


def test_since_keeps_only_newer_articles_and_undated_ones(dated_answerer):
    result = dated_answerer.ask("harbour bridge engineer", k=5, as_of=date(2024, 3, 31), since=date(2024, 3, 10))
    assert result.found
    assert {a.published for a in result.answers} <= {"2024-03-11", None}


def test_undated_articles_are_always_searchable(dated_answerer):
    result = dated_answerer.ask("Who runs the harbour ferry?", as_of=date(2000, 1, 1))
    assert result.found and "Lina Holm" in result.answers[0].quote
    assert result.answers[0].published is None


@pytest.mark.parametrize(("question", "days", "newest"), [
    ("Who won the match this week?", 9, True),
    ("What happened yesterday in Paris?", 3, True),
    ("Who is currently the prime minister?", None, True),
    ("Who was the first emperor of Rome?", None, False),
])
def test_time_words_set_the_frame(question, days, newest):
    frame = time_frame(question, date(2024, 3, 13))
    assert frame.recent_days == days and frame.wants_newest is newest
    assert frame.window == PublishedWindow(until="2024-03-13")


# -- the command line --------------------------------------------------------------


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.fixture()
def dated_cli(cli_env):
    for name, (published, title, body) in {"week1": WEEK_ONE, "week2": WEEK_TWO}.items():
        _write(cli_env["articles"], name, published, title, body)
    assert _run("index").exit_code == 0
    return cli_env


@pytest.mark.parametrize("bad", ["2024-3-5", "05/03/2024", "yesterday", "2024-02-30"])
def test_a_bad_as_of_is_a_usage_error_naming_the_form(cli_env, bad):
    result = _run("ask", "--as-of", bad, "who led the Chinese delegation?")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_ask_as_of_and_published_in_json_and_text(dated_cli):
    result = _run("ask", "--json", "--as-of", "2024-03-05", "Who is the bridge engineer of the Harbour Bridge?")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert "Tomas Varga" in data["answers"][0]["quote"]
    assert all(a["published"] in (None, "2024-03-04") for a in data["answers"])
    text = _run("ask", "--as-of", "2024-03-05", "Who is the bridge engineer of the Harbour Bridge?")
    assert "(2024-03-04)" in text.stdout.splitlines()[1]
    assert "https://news.example.org/week1" in text.stdout


def test_stdin_json_lines_carry_their_as_of_in_input_order(dated_cli):
    lines = [
        json.dumps({"question": "Who was named bridge engineer this week?", "as_of": "2024-03-13"}),
        "who led the Chinese delegation?",
        json.dumps({"question": "Who is the bridge engineer of the Harbour Bridge?", "as_of": "2024-03-05"}),
        json.dumps({"question": "Who?", "as_of": "March"}),
        "{not json",
    ]
    result = _run("ask", "--json", input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows[:3]] == ["Who was named bridge engineer this week?",
                                                 "who led the Chinese delegation?",
                                                 "Who is the bridge engineer of the Harbour Bridge?"]
    assert "Ana Ruiz" in rows[0]["answers"][0]["quote"]
    assert "Li Hongzhong" in rows[1]["answers"][0]["quote"]
    assert "Tomas Varga" in rows[2]["answers"][0]["quote"]
    assert rows[3]["found"] is False and "YYYY-MM-DD" in rows[3]["error"]
    assert rows[4]["found"] is False and "JSON" in rows[4]["error"]
