# Set-up, build and test for fooocus-widgets. Two targets are all a new machine needs:
#   make demo   JupyterLab on notebooks/quickstart.ipynb with the embedded demo models
#   make test   every test suite: lint and types, Python, JS (vitest), browser (Chromium)
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
# the CPU build of torch that lies on these machines' disk; pinned first so nothing pulls CUDA
TORCH   := torch==2.13.0
export PATH := $(CURDIR)/$(BIN):$(PATH)
export HF_HUB_OFFLINE := 1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

JS_SOURCES := $(shell find js/src -name '*.ts' -o -name '*.css') js/package.json js/tsconfig.json
BUNDLES    := fooocus_widgets/static/panel.js fooocus_widgets/labextension/package.json
CHROMIUM   ?= /usr/bin/chromium
DEMO_DIR   ?= demo-models
HOST       ?= 127.0.0.1
PORT       ?= 8888

.PHONY: demo test install build contract lint test-python test-js test-browser chromium clean

## demo: set up, create the demo models, start JupyterLab on the quickstart notebook
demo: install
	$(PY) -m fooocus_widgets demo-models $(DEMO_DIR)
	export FOOOCUS_WIDGETS_MODELS="$(CURDIR)/$(DEMO_DIR)"
	extra=""; if [ "$$(id -u)" = 0 ]; then extra="--allow-root"; fi
	$(BIN)/jupyter lab notebooks/quickstart.ipynb --no-browser --ip=$(HOST) --port=$(PORT) \
	  --ServerApp.root_dir="$(CURDIR)" $$extra

## test: everything CI runs
test: install chromium lint
	$(BIN)/pytest
	(cd js && npx vitest run)

install: $(VENV)/.installed $(BUNDLES)

$(VENV)/.installed: pyproject.toml js/package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	(cd js && npm ci --no-audit --no-fund)
	# a re-install would write the wheel's install.json through the develop link into the
	# package (and the next wheel would hold it twice): drop the link first, it is made again below
	rm -rf $(VENV)/share/jupyter/labextensions/fooocus-widgets
	$(PY) -m pip install -q -e ".[dev]"
	# link the lab extension to the build folder, so `make build` updates it in place
	$(BIN)/jupyter labextension develop --overwrite . >/dev/null
	touch $@

js/node_modules/.package-lock.json: js/package-lock.json
	(cd js && npm ci --no-audit --no-fund)

$(BUNDLES) &: $(JS_SOURCES) js/node_modules/.package-lock.json
	(cd js && npm run build --silent)
	touch $(BUNDLES)

build: $(VENV)/.installed
	(cd js && npm run build --silent)

## contract: regenerate the page's TypeScript contract from the kernel's Python (messages, state)
contract: install
	$(PY) -m fooocus_widgets.contract

## chromium: Debian's Chromium for the browser tests (never a downloaded browser)
chromium:
	if [ ! -x $(CHROMIUM) ]; then
	  sudo=""; if [ "$$(id -u)" != 0 ]; then sudo="sudo"; fi
	  $$sudo apt-get update -qq
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null
	fi
	$(CHROMIUM) --version

lint: install
	$(BIN)/ruff check fooocus_widgets tests benchmarks
	$(BIN)/ruff format --check fooocus_widgets tests benchmarks
	$(BIN)/mypy
	(cd js && npm run --silent typecheck && npx tsc -p tsconfig.test.json --noEmit)

test-python: install
	$(BIN)/pytest -m "not browser"

test-browser: install chromium
	$(BIN)/pytest -m browser

test-js: install
	(cd js && npx vitest run)

clean:
	rm -rf $(VENV) js/node_modules js/lib fooocus_widgets/static fooocus_widgets/labextension
