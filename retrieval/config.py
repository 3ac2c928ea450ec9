"""Every scoring parameter of answering, in one place.

Each component takes these as defaults and may be given others (the tuning scripts in
benchmarks/ do); `QuestionAnswerer.scoring_config()` reports the values in force, and
`newsqa eval --json` prints them beside its figures, so every figure in docs/quality.md is
tied to a configuration. The learned ranker's weights live in `ranker.json`.
"""

from __future__ import annotations

# -- retrieval (hybrid.py) -----------------------------------------------------------
# RRF's k dampens the weight of top ranks. Cormack et al. (2009) use 60; on our eval sets
# (docs/quality.md) a steeper k = 10 ranks better: both lists' first hits matter most.
RRF_K = 10
# Weights of the two rankings. Keyword search counts double: questions name the people,
# places and numbers they ask about, which BM25 matches exactly and embeddings blur (each
# ranking alone: the reference rows of docs/quality.md).
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 2.0
# The article's title is a second keyword field, its BM25 weighing this much against the
# passage text's 1.0: a passage deep in an article about the question's subject need not
# repeat the names its headline gives. 0 searches the passage text alone.
TITLE_WEIGHT = 0.0
# Candidates taken from each ranking before fusion.
CANDIDATES = 30
# A question word held by more than COMMON_TERM_SHARE of the passages (BM25's IDF below ln 11)
# is left out of the keyword search once that share is over COMMON_TERM_MIN_PASSAGES passages:
# FTS5 scores every passage holding any word searched, ~1 us each, and on a news index of 25,000
# passages a quiz question's common words ("week", "new", "state") matched half of them (12 ms
# of BM25 per question against 5 without; docs/performance.md). The words still count in the
# quote's coverage; a question of common words alone searches them all.
COMMON_TERM_SHARE = 0.1
COMMON_TERM_MIN_PASSAGES = 1000

# -- which passages are examined (answerer.py) ---------------------------------------
# Relevance of a quote: its similarity to the question (the best of the sentence's and the
# passage's cosine) plus COVERAGE_WEIGHT times the IDF-weighted share of the question's words
# the quote holds, plus PASSAGE_COVERAGE_WEIGHT times that share over its whole passage.
# Below MIN_RELEVANCE nothing in the corpus is about the question, and we say so rather than
# quote noise. Tuned on xquad_en/covidqa questions asked of the other set's index; the
# shares rightly not found and of answerable questions lost are in docs/quality.md.
MIN_RELEVANCE = 0.65
COVERAGE_WEIGHT = 0.5
PASSAGE_COVERAGE_WEIGHT = 0.25
# Once the top answer passes MIN_RELEVANCE, the ones after it need only this much: a
# second-best passage often holds the answer in other words (docs/quality.md).
MIN_FOLLOWING_RELEVANCE = 0.4
# Passages examined per answer asked for: 3 rather than 2 finds more answers that sit deep
# in long papers (covidqa, docs/quality.md); the quote picker's stem cache keeps the cost per
# question where it was with 2 (docs/performance.md, section 4).
PASSAGES_PER_ANSWER = 3
# Passages are examined for at least this many answers, however few are asked for: the first
# answer and the not-found verdict then come out the same for any k up to it, and they are the
# ones measured (`newsqa eval` and the bot ask for 5; `benchmarks/speed.py` times 5).
MIN_ANSWERS_EXAMINED = 5

# -- picking the quote (quotes.py, features.py, terms.py) -------------------------------
# A neighbour scored within this much (log-odds of the ranker) of the best sentence joins the
# quote: an answer that spans two sentences is quoted whole (docs/quality.md).
EXTEND_MARGIN = 1.0
MAX_QUOTE_CHARS = 400

# Recency, added to a quote's score: a question that names a span ("this week") prefers
# articles inside it; one that asks for the newest ("latest", "currently") prefers newer
# articles (W_NEWEST), and any dated question does so more mildly (W_RECENCY_PRIOR: ties go
# to the newer story), both fading over RECENCY_DAYS: half a year, so that across an archive
# of years last month's story still outranks one of 2016 on the same subject. Undated
# articles get none of it, and so are never pushed below their relevance. Chosen on
# news_dev's weeks, one half at a time, scored on the other (docs/quality.md).
W_RECENT_SPAN = 1.0
W_NEWEST = 1.0
W_RECENCY_PRIOR = 0.5
RECENCY_DAYS = 180.0
# A question asking for a work's title ("which movie") prefers a quoted name of at most this
# many words (a quoted remark runs longer). A round number, not fitted.
MAX_TITLE_WORDS = 8
# Words this close to one of the question's words count as "near" it (the focus phrase
# "bridge engineer" next to "Tomas Varga").
NEAR_TOKENS = 6
# Stems at least this long also match when one extends the other: porter leaves
# "russia"/"russian" apart.
PREFIX_STEM_CHARS = 5
# A question of several sentences ("NASA named the Artemis II crew this week. How many
# astronauts were selected?"): the words of the sentence that asks weigh this many times the
# scene-setting ones in the coverage signals. A round 2, not fitted: news_dev (the only set
# with such questions in number) measured 1.5-3 alike, see docs/quality.md.
FOCUS_WEIGHT = 2.0

# -- follow-ups in a conversation (followup.py) ------------------------------------------
# A message with this many content words (or more) can stand alone.
MIN_STANDALONE_WORDS = 3
# A new word takes the place of the previous question's word of the same kind (both names or
# both common words) when their embeddings are at least this close; below it the new word is
# added to the question instead. Word pairs of one kind ("Russian"/"Chinese", "Russia"/"China")
# measure 0.4-0.7 with the bundled model, unrelated pairs ("Russian"/"led") under 0.3.
SUBSTITUTE_MIN_COSINE = 0.35

# Questions are cut to this many characters before searching; longer text is not a question.
MAX_QUESTION_CHARS = 1000
