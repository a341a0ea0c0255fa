# Two set-up commands: `make run` (the product with demo data) and `make test` (the suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format venv messages

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py run_all

# The suite runs against real PostgreSQL and Redis on localhost (see README.md).
test: export DATABASE_URL ?= postgres:///agentiq
test: export REDIS_URL ?= redis://127.0.0.1:6379/9
test: export AXES_ENABLED = true
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agentiq connectors inbox intelligence analytics
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=85 $(PYTEST_ARGS)

# mypy loads the Django settings: give them URLs so no embedded Redis is started.
lint: export DATABASE_URL ?= postgres:///agentiq
lint: export REDIS_URL ?= redis://127.0.0.1:6379/9
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agentiq connectors inbox intelligence analytics

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l ru --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages -l ru --ignore=.venv
