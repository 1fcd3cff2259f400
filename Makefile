# Two commands do all the set-up on a fresh machine with python3 and make:
#   make demo   the terminal tour of the four seed stories
#   make test   lint, format check and the whole test suite
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format clean

$(BIN)/python:
	python3 -m venv $(VENV)

# Re-install only when the project's metadata changes (the install is editable).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[dev,plot,sklearn]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lucidnet demo

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

test: lint
	$(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
