# The two commands a newcomer needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint check-migrations

# PORT picks another port (5000 is taken by AirPlay on macOS): make run PORT=5050
run: $(VENV)/.installed
	$(BIN)/flask --app app serve $(if $(PORT),--port $(PORT))

# The embedded product, a flaky local receiver and a stream of events: retries, the breaker and alerts in a minute.
demo: $(VENV)/.installed
	$(BIN)/python bin/demo $(if $(PORT),--port $(PORT))

# The tests run in TEST_WORKERS processes side by side (pytest-xdist; a file's tests stay together, in order, in
# one process; each process has its own database and Redis db). TEST_WORKERS=0 runs them all in this process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# requirements-dev.txt is requirements.txt (what the platforms install) plus the test tools.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@
