# Two entry points for a fresh machine: `make demo` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
QUESTION ?= who led the Chinese delegation?

.PHONY: install demo test clean

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

clean:
	rm -rf $(VENV) data
