# animstudio: `make demo` runs the main job, `make test` runs the test suite. Both create .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# CPU machines take the CPU build of torch that is on disk; anything else pulls a multi-GB CUDA build.
TORCH  := torch==2.13.0
DEMO_OUT ?= out/demo
UI_PORT ?= 8100
# Debian packages: the main job calls espeak-ng (IPA for lip sync, its voices); the tests also run a real Redis
# and a real PostgreSQL server (the job store's), and drive the web UI in Debian's chromium
DEMO_DEBS := espeak-ng
DEBS      := $(DEMO_DEBS) redis-server postgresql chromium

.PHONY: demo test test-all lint clean debs demo-debs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	-$(PIP) install -q --disable-pip-version-check --upgrade pip

# what the main job needs (the constraints keep torch on its CPU build)
$(VENV)/.installed-base: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q --disable-pip-version-check -c constraints.txt -e '.[analysis,editing,voice,llm,studio]'
	touch $@

# everything, for the tests
$(VENV)/.installed-all: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q --disable-pip-version-check $(TORCH)
	$(PIP) install -q --disable-pip-version-check -c constraints.txt -e '.[all,dev]'
	touch $@ $(VENV)/.installed-base

# the main job: a parody re-dub of the sample clip (or of VIDEO=path) with the embedded LLM and voices
demo: demo-debs $(VENV)/.installed-base
	@if [ -z "$(VIDEO)" ]; then $(BIN)/animstudio media sample $(DEMO_OUT)/sample.mp4 --seconds 12 --seed 1; fi
	rm -rf $(DEMO_OUT)/parody
	$(BIN)/animstudio parody $(if $(VIDEO),$(VIDEO),$(DEMO_OUT)/sample.mp4) -o $(DEMO_OUT)/parody
	@if [ -n "$(UI)" ]; then \
		echo "The studio's web UI: open http://127.0.0.1:$(UI_PORT)/ (Ctrl-C stops it; clips in $(DEMO_OUT) can be picked)"; \
		$(BIN)/animstudio studio serve --port $(UI_PORT) --media $(DEMO_OUT); \
	fi

# installed with apt-get when run as root; otherwise it stops with the command to run
demo-debs:
	@$(MAKE) -s debs DEBS="$(DEMO_DEBS)"

debs:
	@missing=""; for deb in $(DEBS); do dpkg -s $$deb >/dev/null 2>&1 || missing="$$missing $$deb"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "animstudio needs the Debian packages$$missing; install them with: sudo apt-get install -y$$missing" >&2; \
			exit 1; \
		fi; \
	fi

test: debs $(VENV)/.installed-all
	$(BIN)/python -m pytest -q --durations=25

# also the slow tier (large models, long renders)
test-all: debs $(VENV)/.installed-all
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(VENV)/.installed-all
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
