# Every target creates the virtual environment first when it is missing, so on a
# fresh machine `make demo` and `make test` do all the set-up themselves.
# `make demo` installs the runtime dependencies only; every other target needs
# the development extras (pytest, JupyterLab, Voila, ...). Each install leaves a
# stamp: the dev install satisfies the demo too, so after `make test` a `make
# demo` installs nothing, and after `make demo` a `make test` adds the extras.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
PORT   ?= 8866

.PHONY: install demo test test-fast lab app bench figures lint clean

install: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP) $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/python -m simlib.app.demo

# The suite runs on every core (pytest-xdist), a file per worker at a time: each notebook
# keeps its kernel and each module its fixtures.
test: $(DEV_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider -n auto --dist loadfile

test-fast: $(DEV_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -m "not statistical and not slow"

lab: $(DEV_STAMP)
	$(BIN)/jupyter lab notebooks

# The planner dashboard (Voila) at http://127.0.0.1:$(PORT)/ until stopped (Ctrl-C).
app: $(DEV_STAMP)
	$(BIN)/voila notebooks/10_planner_dashboard.ipynb --port=$(PORT) --Voila.ip=127.0.0.1 --no-browser --Voila.port_retries=0

# Re-execute the notebooks, which (re)write their figures to figures/.
figures: $(DEV_STAMP)
	@for nb in notebooks/[0-9]*.ipynb; do echo "== $$nb"; $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done

bench: $(DEV_STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(DEV_STAMP)
	$(BIN)/ruff check simlib tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
