# The project's table of contents. `make run` and `make test` set up everything
# they need (virtual env, spaCy pipeline, trained model, chat widget) on a fresh clone.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
SPACY := build/spacy-en-careers
MODEL := models/careers.tar.gz
FOLDS := 3
WIDGET_JS := widget/dist/careers-chat.js
WIDGET_NPM := widget/node_modules/.installed
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml') \
	nlp/rasa_components.py nlp/intent_classifier.py $(SPACY)/meta.json

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore::DeprecationWarning
export TF_DETERMINISTIC_OPS := 1

.PHONY: install spacy train widget run shell actions test unit browser validate conversations eval nlu-report crossval bench screenshot clean

install: $(VENV)/.installed   ## virtual env with pinned dependencies

$(VENV)/.installed: requirements.txt requirements-lock.txt scripts/find-python.sh
	@echo "==> Creating the virtual env in $(VENV) (Python 3.10)"
	@python="$$(scripts/find-python.sh)" && "$$python" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<24.1"
	$(BIN)/pip install --quiet -r requirements.txt -c requirements-lock.txt
	@touch $@

spacy: $(SPACY)/meta.json   ## the rule-based spaCy pipeline, from nlp/patterns

$(SPACY)/meta.json: $(VENV)/.installed nlp/build_pipeline.py $(wildcard nlp/patterns/*.jsonl) actions/entry_rules.yml
	@echo "==> Building the spaCy pipeline"
	$(BIN)/python -m nlp.build_pipeline $(SPACY)

train: $(MODEL)   ## retrains only when data, config or the pipeline changed

$(MODEL): $(TRAINING_INPUTS)
	@echo "==> Training the model (data or config changed)"
	$(BIN)/rasa train --fixed-model-name careers --out models --quiet

widget: $(WIDGET_JS)   ## the chat widget, one file with socket.io-client (rebuilt when its sources change)

$(WIDGET_NPM): widget/package.json widget/package-lock.json
	@echo "==> Installing the widget's npm packages (pinned in widget/package-lock.json)"
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WIDGET_JS): $(WIDGET_NPM) widget/build.mjs $(wildcard widget/src/*)
	@echo "==> Building the chat widget"
	cd widget && npm run --silent build

run: $(MODEL) $(WIDGET_JS)   ## action server on 5055, Rasa (REST + socket.io) on 5005, demo site on 8080
	@scripts/run.sh

actions: $(VENV)/.installed   ## the action server alone
	$(BIN)/rasa run actions --actions actions --port 5055

validate: $(VENV)/.installed   ## rasa data validate (domain, NLU data, rules, stories)
	$(BIN)/rasa data validate --max-history 5

unit: $(SPACY)/meta.json   ## fast tests: engine, language helpers, actions
	$(BIN)/pytest -q tests --ignore=tests/test_servers.py --ignore=tests/test_widget.py

browser: $(MODEL) $(WIDGET_JS)   ## browser tests of the chat widget (headless Chromium, real servers)
	$(BIN)/pytest -q tests/test_widget.py

conversations: $(MODEL)   ## conversation tests (tests/test_*.yml) through the trained bot, NLU included
	$(BIN)/rasa test core --e2e --model $(MODEL) --stories tests/ --fail-on-prediction-errors \
		--out results/conversations --no-plot

shell: $(MODEL)   ## chat in the terminal (start `make run` first, for the actions)
	$(BIN)/rasa shell --model $(MODEL) --endpoints endpoints.yml --port 5006

eval: $(MODEL)   ## NLU evaluation on the held-out messages (tests/nlu_heldout.yml)
	$(BIN)/python -m scripts.evaluate_nlu --model $(MODEL) --data tests/nlu_heldout.yml \
		--json results/nlu-heldout.json --report docs/nlu-report.md --check-targets

nlu-report: $(SPACY)/meta.json   ## trains and compares three NLU pipelines; writes docs/nlu-report.md
	$(BIN)/python -m scripts.compare_nlu

crossval: $(SPACY)/meta.json   ## cross-validation (FOLDS=3 folds) of our pipeline on the training data
	$(BIN)/rasa test nlu --cross-validation --folds $(FOLDS) --config config.yml --nlu data/nlu \
		--out results/crossval --no-plot > results/crossval.log 2>&1
	$(BIN)/python -m scripts.crossval_summary results/crossval.log docs/nlu-crossval.json $(FOLDS)

test: $(MODEL) $(WIDGET_JS)   ## everything: validation, unit, server, browser, conversation and NLU tests
	$(MAKE) --no-print-directory validate
	$(BIN)/pytest -q tests
	$(MAKE) --no-print-directory conversations
	$(MAKE) --no-print-directory eval

bench: $(MODEL)   ## long-input benchmark: reply time and memory with and without the guard
	$(BIN)/python -m scripts.bench_long_input

screenshot: $(MODEL) $(WIDGET_JS)   ## docs/widget.png: the widget mid-conversation, in headless Chromium
	$(BIN)/python -m scripts.widget_screenshot docs/widget.png

clean:
	rm -rf build models/*.tar.gz results .pytest_cache widget/dist
