# Every target creates the virtual environment first when it is missing, so on a
# fresh machine `make demo` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8866

.PHONY: install demo test test-fast lab app bench figures lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m simlib.app.demo

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider

test-fast: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -m "not statistical and not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

# The planner dashboard (Voila) at http://127.0.0.1:$(PORT)/ until stopped (Ctrl-C).
app: $(STAMP)
	$(BIN)/voila notebooks/10_planner_dashboard.ipynb --port=$(PORT) --Voila.ip=127.0.0.1 --no-browser --Voila.port_retries=0

# Re-execute the notebooks, which (re)write their figures to figures/.
figures: $(STAMP)
	@for nb in notebooks/[0-9]*.ipynb; do echo "== $$nb"; $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check simlib tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
