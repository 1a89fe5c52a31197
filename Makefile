# Two commands: `make run` (the whole product on embedded defaults) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
VAR_DIR ?= $(CURDIR)/var
export VAR_DIR

.PHONY: install run web worker test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Web + Celery worker + beat (the periodic overdue sweep), on SQLite and the filesystem broker
# unless DATABASE_URL / REDIS_URL say otherwise; honcho runs the three lines of the Procfile.
# One Ctrl-C stops all of them within a few seconds. The demo logins are printed at every start.
run: $(STAMP)
	mkdir -p $(VAR_DIR)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty --show-logins
	@echo "Hotline Desk: http://$(HOST):$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@PATH="$(abspath $(BIN)):$$PATH" HOST=$(HOST) PORT=$(PORT) VAR_DIR=$(VAR_DIR) exec $(BIN)/honcho start

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=hotline.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy hotline operators

# Benchmarks on PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hotline_bench,
# which is REPLACED) and Redis db 13: dashboard, queue and case pages, Telegram intake under
# gunicorn, the overdue sweep. Default sizes 10000 100000 (a few minutes);
# e.g. make bench BENCH_ARGS="--sizes 10000,100000,1000000". bench/run_all.py lists them.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf var $(VENV)
