# Two commands: `make run` (set up + demo DB + app) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
DB_FILE := data/demo.db
# test processes (pytest-xdist; a file's tests stay on one worker, so module fixtures are built once)
TEST_WORKERS ?= 2
VULTURE_ARGS := --exclude ".venv,*/migrations/versions/*,data/*" --min-confidence 60

.PHONY: run test setup demo lint clean bench
export REQUIRE_POSTGRES REQUIRE_BROWSER REQUIRE_MARIADB

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

setup: $(BIN)/activate

# The demo database is generated on first run when DATABASE_URL is not set.
$(DB_FILE): | $(BIN)/activate
	$(BIN)/python -m data_access demo --db sqlite:///$(DB_FILE)

demo: $(BIN)/activate
	$(BIN)/python -m data_access demo --db sqlite:///$(DB_FILE)

run: $(BIN)/activate
	@if [ -z "$$DATABASE_URL" ] && [ ! -f $(DB_FILE) ]; then $(MAKE) --no-print-directory $(DB_FILE); fi
	@if [ -n "$$DATABASE_URL" ]; then $(BIN)/python -m data_access init; fi
	$(BIN)/python serve.py --server.port $(PORT)  # the ASGI app (asgi.py) under uvicorn

test: $(BIN)/activate
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/vulture . $(VULTURE_ARGS)  # dead code; implicit uses in vulture_whitelist.py

bench: $(BIN)/activate
	$(BIN)/python -m benchmarks --scale $${SCALE:-district}

clean:
	rm -rf $(VENV) $(DB_FILE) $(DB_FILE)-* artifacts .pytest_cache
