# One command each: `make demo` tries the bot, `make test` runs every test, `make lint` checks style.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install demo test lint bench fleet fleet-stop clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crmbot console --demo --as alice

test: $(STAMP)
	$(VENV)/bin/pytest -n auto --dist worksteal

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot handlers crm_core retrieval schedules

bench: $(STAMP)
	$(PY) bench/bench_verbs.py

# PostgreSQL, a Chroma server and $(FLEET_WORKERS) workers on one port (deploy/fleet.sh).
fleet: $(STAMP)
	deploy/fleet.sh start

fleet-stop:
	deploy/fleet.sh stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
