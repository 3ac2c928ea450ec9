"""Follow-ups (issue 21), measured two ways.

1. Standalone questions keep their quality in a chat: the first N questions of a set (file
   order: runs of questions about one paragraph, the case where an earlier question could
   bend a later one) asked one after another in one conversation, against each asked alone.
   quote_hit@1 of both, and how many were rewritten.
2. The follow-up pairs in tests/fixtures/followups.jsonl (previous question, follow-up,
   expected answer strings; over the seed article and the shared sets): the share whose
   follow-up's top quote holds an expected answer, through the conversation and, for
   comparison, asked alone.

    .venv/bin/python benchmarks/followups.py ../shared/eval/xquad_en --limit 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import Settings
from newsqa.index import IndexBuilder, IndexReader, load_encoder
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.evaluation import answer_in, load_questions

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "fixtures" / "followups.jsonl"
# Where each pair's `set` has its articles, relative to the repository.
SETS = {"seed": ROOT / "seeds", "xquad_en": ROOT.parent / "shared" / "eval" / "xquad_en" / "articles"}


def top_quote_hits(answers: tuple[str, ...] | list[str], result) -> bool:
    return result.found and answer_in(answers, result.answers[0].quote)


def in_a_row(app: NewsqaApp, answerer: QuestionAnswerer, dataset: Path, limit: int) -> dict[str, object]:
    """quote_hit@1 of the first `limit` questions asked alone and in one conversation."""
    questions = load_questions(dataset, limit)
    conversation = app.conversation()
    alone_hits = chat_hits = rewritten = changed = 0
    examples: list[dict[str, str]] = []
    for question in questions:
        alone = answerer.ask(question.question, 3, as_of=question.as_of)
        chat = app.ask_in(conversation, answerer, question.question, 3, as_of=question.as_of)
        hit_alone, hit_chat = top_quote_hits(question.answers, alone), top_quote_hits(question.answers, chat.result)
        alone_hits += hit_alone
        chat_hits += hit_chat
        if chat.is_follow_up:
            rewritten += 1
            changed += hit_alone != hit_chat
            if len(examples) < 10:
                examples.append({"question": question.question, "understood_as": chat.understood_as,
                                 "reason": chat.resolution.reason})
    n = len(questions)
    return {"questions": n, "quote_hit@1_alone": round(alone_hits / n, 4),
            "quote_hit@1_in_a_row": round(chat_hits / n, 4),
            "difference": round((chat_hits - alone_hits) / n, 4),
            "rewritten": rewritten, "rewritten_hit_changed": changed, "rewrite_examples": examples}


def load_pairs(path: Path = PAIRS) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pair_outcomes(app: NewsqaApp, answerers: dict[str, QuestionAnswerer],
                  pairs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each pair asked in a fresh conversation (previous, then follow-up) and alone."""
    outcomes = []
    for pair in pairs:
        answerer = answerers[pair["set"]]
        conversation = app.conversation()
        app.ask_in(conversation, answerer, pair["previous"])
        chat = app.ask_in(conversation, answerer, pair["follow_up"])
        alone = answerer.ask(pair["follow_up"])
        outcomes.append({"set": pair["set"], "follow_up": pair["follow_up"], "understood_as": chat.understood_as,
                         "right": top_quote_hits(pair["answers"], chat.result),
                         "right_alone": top_quote_hits(pair["answers"], alone)})
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="a set in the shared/eval layout (standalone questions)")
    parser.add_argument("--limit", type=int, default=300, help="questions asked in a row")
    args = parser.parse_args()

    encoder = load_encoder()
    encoder.warm_up()
    app = NewsqaApp(Settings(), encoder=encoder)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        readers: dict[str, IndexReader] = {}
        for name, articles in SETS.items():
            IndexBuilder(Path(scratch) / name, encoder).update(articles)
            readers[name] = IndexReader(Path(scratch) / name)
        dataset_dir = Path(scratch) / "dataset"
        IndexBuilder(dataset_dir, encoder).update(args.dataset / "articles")
        answerers = {name: QuestionAnswerer(reader, encoder) for name, reader in readers.items()}
        row = in_a_row(app, QuestionAnswerer(IndexReader(dataset_dir), encoder), args.dataset, args.limit)
        outcomes = pair_outcomes(app, answerers, load_pairs())
    right = sum(o["right"] for o in outcomes)
    right_alone = sum(o["right_alone"] for o in outcomes)
    report = {"standalone_in_a_row": {"dataset": args.dataset.name} | row,
              "follow_up_pairs": {"pairs": len(outcomes), "right": right, "rate": round(right / len(outcomes), 4),
                                  "right_alone": right_alone,
                                  "rate_alone": round(right_alone / len(outcomes), 4),
                                  "wrong": [o for o in outcomes if not o["right"]]},
              "seconds": round(time.perf_counter() - started, 1)}
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
