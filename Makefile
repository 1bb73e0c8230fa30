# VIE Coach: `make demo` to chat with the bot, `make test` to run every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test run check lint typecheck bench lock clean help graphviz postgresql browser

help:
	@echo "make demo   - chat with the bot in this terminal (no token needed)"
	@echo "make test   - lint, type-check and run the whole test suite"
	@echo "make run    - run on Telegram (TELEGRAM_BOT_TOKEN=... make run)"
	@echo "make check  - check the dialog files"
	@echo "make bench  - run the benchmarks (figures go to docs/benchmarks.md by hand)"
	@echo "make lock   - re-pin constraints.txt to the newest allowed versions"

# The virtual environment is (re)built whenever the dependencies or their pins change.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "VIE Coach needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vie-coach chat --db vie-coach.db --dialogs dialogs

# Graphviz's `dot` draws the dialog graph as SVG (`vie-coach graph`); without it the graph
# is Mermaid text and the SVG test is skipped. Installed when it can be: Debian, as root.
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1; }; }; } || \
	  echo "(Graphviz's dot is not installed: vie-coach graph writes Mermaid, its SVG test is skipped)"

# The PostgreSQL store's tests start a throwaway server of their own (initdb in a temporary
# folder, 127.0.0.1, a free port; as root it runs as the postgres user). Debian's server is
# installed when it is missing and can be; without it those tests fail with CI=true and
# are skipped (with the reason) elsewhere.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq postgresql >/dev/null 2>&1; }; }; } || \
	  echo "(PostgreSQL's server is not installed: the PostgreSQL store's tests are skipped, or fail with CI=true)"

# The console's end-to-end tests drive Debian's Chromium through its chromedriver
# (Selenium, never Selenium Manager). Installed when missing and it can be: Debian, as
# root; without them those tests fail with CI=true and are skipped elsewhere.
browser:
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; }; } || \
	  echo "(Chromium or chromedriver is not installed$$([ "$$(id -u)" = 0 ] || echo ', and this is not root'): the console's browser tests are skipped, or fail with CI=true)"

test: $(STAMP) graphviz postgresql browser
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/vie-coach check dialogs
	$(BIN)/vie-coach test --dialogs dialogs
	$(BIN)/pytest

run: $(STAMP)
	$(BIN)/vie-coach run

check: $(STAMP)
	$(BIN)/vie-coach check dialogs

bench: $(STAMP)
	$(BIN)/python -m bench

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]' setuptools wheel
	( echo '# Pinned versions VIE Coach is tested with. Update deliberately: make lock'; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip==' ) > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
