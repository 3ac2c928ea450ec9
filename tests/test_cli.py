"""The `newsqa` command line through click's CliRunner, with isolated settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from helpers import ROOT, SEED_FILE
from newsqa.bot.cli import cli

EXAMPLE = "who led the Chinese delegation?"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_help_lists_every_command_with_an_example():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("index", "ask", "chat", "stats"):
        assert command in result.output
        sub = run(command, "--help")
        assert sub.exit_code == 0 and "Example:" in sub.output and "newsqa " + command in sub.output


def test_ask_builds_missing_index_then_answers(cli_env):
    result = run("ask", EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "building it" in result.stderr
    first = result.stdout.splitlines()[0]
    assert "Li Hongzhong" in first
    assert "Top Russian, Chinese Officials" in result.stdout
    assert SEED_FILE.name in result.stdout


def test_index_summary_and_noop(cli_env):
    first = run("index")
    assert first.exit_code == 0
    assert "1 added" in first.stdout
    second = run("index")
    assert "0 added" in second.stdout and "1 unchanged" in second.stdout
    stats = run("stats", "--json")
    assert json.loads(stats.stdout)["articles"] == 1


def test_index_names_skipped_files_and_misread_dates_on_stderr(cli_env):
    (cli_env["articles"] / "broken.txt").write_bytes(b"\x00\x01 not text")
    (cli_env["articles"] / "misdated.md").write_text("---\ndate: 2024-02-30\n---\nThe ferry runs hourly.\n")
    result = run("index", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert [p["source"].rsplit("/", 1)[-1] for p in report["problems"]] == ["misdated.md"]
    assert len(report["added"]) == 2 and len(report["skipped"]) == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("skipped ") and "broken.txt: binary file" in line for line in lines)
    assert any(line.startswith("problem ") and "misdated.md: front matter 'date: 2024-02-30'" in line for line in lines)


def test_ask_json_shape(cli_env):
    result = run("ask", "--json", "-k", "2", EXAMPLE)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["question"] == EXAMPLE and data["found"] is True
    assert len(data["answers"]) == 2
    raw = (cli_env["articles"] / SEED_FILE.name).read_text()
    for answer in data["answers"]:
        assert {"quote", "passage", "score", "title", "source"} <= set(answer)
        assert isinstance(answer["score"], float)
        assert answer["quote"] in raw and answer["quote"] in answer["passage"]
    assert data["answers"][0]["score"] >= data["answers"][1]["score"]


def test_ask_json_batch_from_stdin_keeps_order(cli_env):
    questions = [EXAMPLE, "", "What is the recipe for sourdough bread?", "Who is Russia's defense minister?"]
    result = run("ask", "--json", input="\n".join(questions) + "\n")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert lines[0]["found"] and "Li Hongzhong" in lines[0]["answers"][0]["quote"]
    assert not lines[1]["found"] and "empty" in lines[1]["error"]
    assert not lines[2]["found"]
    assert "Shoigu" in lines[3]["answers"][0]["quote"]


def test_chat_answers_several_questions(cli_env):
    result = run("chat", input=f"{EXAMPLE}\nWho is Russia's defense minister?\n\n")
    assert result.exit_code == 0
    assert "Li Hongzhong" in result.stdout and "Shoigu" in result.stdout


def _break_index(env):
    run("index")
    (env["index"] / "manifest.json").write_text("{ not json")


def _break_store(env):
    run("index")
    for path in env["index"].glob("store.sqlite*"):
        path.write_bytes(b"garbage" * 1000)


@pytest.mark.parametrize(
    ("args", "prepare", "code", "message"),
    [
        (["ask", ""], None, 2, "question is empty"),
        (["ask", "   "], None, 2, "question is empty"),
        (["ask"], None, 2, "give a QUESTION"),
        (["--articles-dir", "/no/such/folder", "index"], None, 1, "does not exist"),
        (["ask", EXAMPLE], _break_index, 1, "newsqa index --rebuild"),
        (["ask", EXAMPLE], _break_store, 1, "newsqa index --rebuild"),
        (["--model", "no-such-model-anywhere", "index"], None, 1, "no-such-model-anywhere"),
        (["stats"], None, 1, "newsqa index"),
        (["ask", "-k", "0", EXAMPLE], None, 2, "-k"),
    ],
)
def test_bad_input_gets_clear_error_and_exit_code(cli_env, monkeypatch, args, prepare, code, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if prepare:
        prepare(cli_env)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("breaker", [_break_store, _break_index])
def test_rebuild_repairs_a_broken_index(cli_env, breaker):
    breaker(cli_env)
    result = run("index", "--rebuild")
    assert result.exit_code == 0, result.output
    assert "Li Hongzhong" in run("ask", EXAMPLE).stdout


def test_console_script_runs_as_a_process(cli_env):
    """The installed `newsqa` entry point, as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "newsqa.bot", "ask", "--json", EXAMPLE],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**__import__("os").environ},
    )
    assert result.returncode == 0, result.stderr
    assert "Li Hongzhong" in json.loads(result.stdout)["answers"][0]["quote"]
