"""Cold start: commands that need no model import none of the model runtimes, and no command
but `newsqa bot` imports python-telegram-bot.

Each command runs in a fresh interpreter; an exit hook reports which heavy modules ended
up in `sys.modules`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from helpers import SEEDS

# Heavy imports a command must not pay for unless it uses them.
MODEL_RUNTIMES = ("torch", "sentence_transformers", "transformers", "onnxruntime", "telegram")
_PROBE = """
import atexit, json, sys
names = json.loads(sys.argv[1])
atexit.register(lambda: sys.stderr.write("LOADED=" + json.dumps([n for n in names if n in sys.modules]) + "\\n"))
from newsqa.bot.cli import main
sys.argv = ["newsqa", *sys.argv[2:]]
main()
"""


def _loaded(args: list[str], env: dict[str, str]) -> tuple[list[str], subprocess.CompletedProcess]:
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(MODEL_RUNTIMES), *args],
                            env=env, capture_output=True, text=True, timeout=300)
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED="))
    return json.loads(line.removeprefix("LOADED=")), result


@pytest.fixture()
def env(tmp_path, seed_index, encoder) -> dict[str, str]:
    """A copy of the seed index over the seeds; `encoder` has made the ONNX export already."""
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSQA_", "TELEGRAM_"))}
    if "NEWSQA_CACHE_DIR" in os.environ:
        variables["NEWSQA_CACHE_DIR"] = os.environ["NEWSQA_CACHE_DIR"]
    variables.update(NEWSQA_ARTICLES_DIR=str(SEEDS), NEWSQA_INDEX_DIR=str(index))
    return variables


@pytest.mark.parametrize("args", [["--help"], ["index"], ["stats"], ["ask", "--help"], ["feeds", "list"]])
def test_commands_without_a_model_import_no_model_runtime(args, env):
    loaded, result = _loaded(args, env)
    assert result.returncode == 0, result.stderr
    assert loaded == []


def test_one_shot_ask_with_onnx_imports_no_torch(env):
    loaded, result = _loaded(["ask", "--json", "who led the Chinese delegation?"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["found"]
    assert loaded == ["onnxruntime"]
