# Two entry points for a fresh machine: `make demo` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
QUESTION ?= who led the Chinese delegation?

.PHONY: install demo test bench clean

install: $(VENV)/.installed

# torch first, pinned: `pip install torch==2.13.0` takes the CPU build; left to the
# resolver, sentence-transformers would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/newsqa index
	$(BIN)/newsqa ask "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

# Side-by-side benchmarks against the reference pipeline (docs/performance.md); ~1 h on 2 cores.
bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/speed.py --backends onnx torch
	$(BIN)/python benchmarks/backend_quality.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) data
