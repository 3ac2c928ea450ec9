"""newsqa against the reference pipeline (benchmarks/reference.py), side by side in one run.

Every figure is a whole process, timed from the outside, with its peak RSS taken from
`wait4` (what `/usr/bin/time -v` reports as "Maximum resident set size"):

- index: building an index of the articles folder from scratch, model load included;
- per question: (answer 200 questions from stdin) - (answer 1), divided by 199;
  newsqa `ask --json` (dense + keyword search + quote picking) vs `similarity_search(k=5)`;
- per question, steady: in that 200-question process, the time from its first answer line on
  stdout to its last, divided by 199. Start-up is left out rather than subtracted: the
  reference's start-up (about 7 s, varying by a few tenths from one process to the next) is
  larger than its 200 questions, so the difference above swings by milliseconds per question;
- cold start: one question as a one-shot process (`newsqa ask "..."`) vs the reference
  loading its model and index and answering one query;
- memory: peak RSS of `newsqa bot` serving the index (10 questions through the fake Bot
  API server of tests/fake_telegram.py) vs the reference process holding the same corpus.

Each is run --runs times (index: --index-runs); the table shows median [min-max] and the
ratio reference / newsqa of the medians (higher is better for newsqa). The ONNX model is
exported (once per machine, ~30 s) before timing starts.

    .venv/bin/python benchmarks/speed.py [--runs 3] [--index-runs 2] [--backends onnx torch]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The shared eval sets: NEWSQA_EVAL_DIR, else `../shared/eval` beside this repository.
DEFAULT_ARTICLES = Path(os.environ.get("NEWSQA_EVAL_DIR") or ROOT.parent / "shared" / "eval") / "covidqa"
PYTHON = sys.executable
NEWSQA = [PYTHON, "-m", "newsqa.bot"]
REFERENCE = [PYTHON, str(ROOT / "benchmarks" / "reference.py")]
BOT_QUESTIONS = 10


def _figure(value: float) -> str:
    """Three significant digits, whole numbers from 1000 up (never "1e+03")."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


@dataclass(frozen=True)
class Finished:
    """One process, timed from the outside."""

    wall: float  # seconds, start to exit
    rss_mib: float  # peak resident set size
    arrived: list[float]  # when each line of its stdout arrived (`time.perf_counter`)


def run(cmd: list[str], env: dict[str, str], stdin: str | None = None, cwd: Path | None = None) -> Finished:
    """Run one process to its end, `stdin` fed to it, its stdout read line by line."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def feed() -> None:
        process.stdin.write(stdin)
        process.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    if stdin is not None:
        feeder.start()
    arrived = [time.perf_counter() for _ in process.stdout]
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if stdin is not None:
        feeder.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {process.returncode}")
    return Finished(wall, usage.ru_maxrss / 1024, arrived)


def bot_peak_rss(env: dict[str, str], questions: list[str], cwd: Path) -> float:
    """Peak RSS (MiB) of `newsqa bot` answering `questions` over the fake Bot API."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_telegram import TOKEN, FakeTelegram

    async def scenario() -> float:
        async with FakeTelegram() as server:
            bot_env = dict(env, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=server.base_url,
                           NEWSQA_BOT_STATE_FILE=str(cwd / "bot-state.sqlite"))
            process = subprocess.Popen([*NEWSQA, "bot"], env=bot_env, cwd=cwd,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                for number, question in enumerate(questions):
                    user = server.user(5000 + number)
                    server.say(user, question)
                    await server.reply(user["id"], timeout=300)
            finally:
                process.send_signal(signal.SIGINT)
            _, _, usage = await asyncio.get_running_loop().run_in_executor(None, os.wait4, process.pid, 0)
            return usage.ru_maxrss / 1024

    return asyncio.run(scenario())


def summary(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-set", type=Path, default=DEFAULT_ARTICLES,
                        help="an eval folder with articles/ and questions.jsonl (default covidqa)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--index-runs", type=int, default=2)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--backends", nargs="+", default=["onnx"], choices=["onnx", "torch"],
                        help="newsqa embedding backends to measure (torch = before the ONNX change)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    articles = args.eval_set.resolve() / "articles"  # absolute: newsqa runs in a work folder
    questions = [json.loads(line)["question"].replace("\n", " ")
                 for line in (args.eval_set / "questions.jsonl").read_text().splitlines()[:args.questions]]
    work = Path(tempfile.mkdtemp(prefix="newsqa-speed-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSQA_", "TELEGRAM_"))}
    base_env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    if "NEWSQA_CACHE_DIR" in os.environ:
        base_env["NEWSQA_CACHE_DIR"] = os.environ["NEWSQA_CACHE_DIR"]

    def newsqa_env(backend: str, index: Path) -> dict[str, str]:
        return dict(base_env, NEWSQA_ARTICLES_DIR=str(articles), NEWSQA_INDEX_DIR=str(index),
                    NEWSQA_EMBEDDING_BACKEND=backend)

    # One-time ONNX export outside the timings (it is cached per machine).
    run([PYTHON, "-c", "from newsqa.index import load_encoder; load_encoder('all-MiniLM-L6-v2', 'onnx').warm_up()"],
        base_env)
    systems = ["reference", *args.backends]
    figures: dict[str, dict[str, list[float]]] = {s: {} for s in systems}

    def record(system: str, name: str, value: float) -> None:
        figures[system].setdefault(name, []).append(value)
        print(f"  {system:9s} {name:22s} {value:10.3f}", file=sys.stderr, flush=True)

    index_dirs = {s: work / f"index-{s}" for s in systems}
    for number in range(args.index_runs):
        print(f"index run {number + 1}/{args.index_runs}", file=sys.stderr)
        for system in systems:
            shutil.rmtree(index_dirs[system], ignore_errors=True)
            if system == "reference":
                built = run([*REFERENCE, "index", str(articles), str(index_dirs[system])], base_env)
            else:
                built = run([*NEWSQA, "index"], newsqa_env(system, index_dirs[system]), cwd=work)
            record(system, "index_s", built.wall)
            record(system, "index_rss_mib", built.rss_mib)
    batch = "\n".join(questions) + "\n"
    for number in range(args.runs):
        print(f"query run {number + 1}/{args.runs}", file=sys.stderr)
        for system in systems:
            if system == "reference":
                ask = [*REFERENCE, "ask", str(index_dirs[system])]
                env = base_env
            else:
                ask = [*NEWSQA, "ask", "--json", "-k", "5"]
                env = newsqa_env(system, index_dirs[system])
            many = run(ask, env, stdin=batch, cwd=work)
            arrived = many.arrived
            assert len(arrived) == len(questions), "one answer line per question"
            one = run(ask, env, stdin=questions[0] + "\n", cwd=work)
            record(system, "per_question_ms", (many.wall - one.wall) / (len(questions) - 1) * 1000)
            record(system, "steady_question_ms", (arrived[-1] - arrived[0]) / (len(arrived) - 1) * 1000)
            cold = [*ask, questions[0]] if system == "reference" else [*NEWSQA, "ask", questions[0]]
            once = run(cold, env, cwd=work)
            record(system, "cold_start_s", once.wall)
            if system == "reference":
                record(system, "serving_rss_mib", once.rss_mib)
            else:
                record(system, "serving_rss_mib", bot_peak_rss(env, questions[:BOT_QUESTIONS], work))

    rows = [("index_s", f"Index {args.eval_set.name} from scratch (s)"),
            ("per_question_ms", "Per question (ms)"),
            ("steady_question_ms", "Per question, steady: first to last answer (ms)"),
            ("cold_start_s", "Cold start, one-shot ask (s)"),
            ("serving_rss_mib", "Peak RSS serving (MiB)"),
            ("index_rss_mib", "Peak RSS indexing (MiB)")]
    header = "| figure | reference | " + " | ".join(f"newsqa ({b})" for b in args.backends) + " | " + \
        " | ".join(f"ratio ref/{b}" for b in args.backends) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(args.backends)))
    for key, label in rows:
        if key not in figures["reference"]:
            continue  # --runs 0 or --index-runs 0
        cells = []
        for system in systems:
            med, lo, hi = summary(figures[system][key])
            cells.append(f"{_figure(med)} [{_figure(lo)}-{_figure(hi)}]")
        ref = summary(figures["reference"][key])[0]
        ratios = [f"**{ref / summary(figures[b][key])[0]:.2f}×**" for b in args.backends]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    print(f"\n{len(questions)} questions, {args.runs} query runs, {args.index_runs} index runs; "
          f"serving RSS: reference = one-query process holding the corpus, newsqa = `newsqa bot` "
          f"after {BOT_QUESTIONS} questions. {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs.")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
