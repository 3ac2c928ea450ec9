# Two entry points for a fresh machine: `make demo` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
QUESTION ?= who led the Chinese delegation?

# Versions known to work together (pip freeze of a clean install); `make lock` refreshes it.
CONSTRAINTS := constraints.txt

.PHONY: install demo test bench clean lock

install: $(VENV)/.installed

# torch first, pinned: `pip install torch==2.13.0` takes the CPU build; left to the
# resolver, sentence-transformers would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) torch==2.13.0
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test,milvus]'
	touch $@

demo: install
	$(BIN)/newsqa index
	$(BIN)/newsqa ask "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

# Side-by-side benchmarks against the reference pipeline (docs/performance.md); ~1 h on 2 cores.
bench: install
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test,milvus,bench]'
	$(BIN)/python benchmarks/speed.py --backends onnx torch
	$(BIN)/python benchmarks/backend_quality.py
	$(BIN)/python benchmarks/scale.py

# Re-resolve every dependency (all extras) in a throwaway venv and pin what it chose.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet torch==2.13.0
	.lock-venv/bin/pip install --quiet -e '.[test,milvus,bench]'
	( echo '# pip constraints: versions known to work together; regenerate with `make lock`.'; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -iv '^newsqa' ) > $(CONSTRAINTS)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) data
