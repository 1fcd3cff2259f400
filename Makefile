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
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint
	$(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache

# make bench: the benchmark suite against PyTorch (CPU), scikit-learn and onnxruntime, in
# its own environment; writes docs/benchmarks.md. `make bench BENCH_ARGS=--quick` for a
# smoke run.
# torch==2.13.0 exactly: on these machines that pin installs the CPU build from a local
# file (another specification would download a multi-GB CUDA build). The OpenBLAS
# variables some machines set are unset, as on a user's machine (bench/run.py also
# removes them from every worker it starts).
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_OUT   := docs/benchmarks.md
BENCH_ARGS  :=

.PHONY: bench

$(BENCH_STAMP): pyproject.toml
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --editable '.[sklearn,onnx,mpi]' torch==2.13.0 threadpoolctl
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BENCH_VENV)/bin/python bench/run.py --out $(BENCH_OUT) $(BENCH_ARGS)

# make bench-ab AB_BASE=<commit>: interleaved A/B of lucidnet at that commit against the
# working tree (cases a at batch 32/128/1024, c and d, PyTorch as the common yardstick);
# prints a Markdown table. `AB_ARGS="--quick"`, `AB_ARGS="--rounds 15 --out /tmp/ab.md"`.
AB_BASE :=
AB_ARGS :=

.PHONY: bench-ab

bench-ab: $(BENCH_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BENCH_VENV)/bin/python bench/ab.py --base "$(AB_BASE)" $(AB_ARGS)
