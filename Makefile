# The two commands: `make run` (a local store on 127.0.0.1:5000) and `make test`.
# Both install what they need first: a virtualenv with requirements.txt, and the Debian
# packages (ffmpeg, python3-venv, the contracts' fonts) when they are missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := marketplace

.PHONY: run reset test test-pg bench lighthouse install system-packages migrate vendor clean

# Without STRIPE_SECRET_KEY, payments go to the bundled Stripe sandbox, started alongside
# and stopped with the server; its webhook secret is the app's development default.
SANDBOX_PORT ?= 12111
SANDBOX_WEBHOOK_SECRET := whsec_sandbox_development_only

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	@if [ -z "$$STRIPE_SECRET_KEY" ]; then \
	  $(BIN)/flask payments sandbox --port $(SANDBOX_PORT) --state-file $${INSTANCE_DIR:-instance}/stripe-sandbox.json \
	    --webhook-url http://$(HOST):$(PORT)/api/v1/payments/stripe/webhook \
	    --webhook-secret $(SANDBOX_WEBHOOK_SECRET) & \
	  sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT; \
	fi; \
	export STRIPE_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT); \
	$(BIN)/flask jobs sweep; \
	echo "Serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Starts the demo store over (every account, beat, order, file and sandbox payment removed),
# then serves it as `make run` does. Development only, like the demo store itself.
reset: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo --reset
	rm -f $${INSTANCE_DIR:-instance}/stripe-sandbox.json
	$(MAKE) run

# The browser tests need Chromium, the contract tests poppler's pdftoppm (pages as images)
# and the multi-host tests (which need root) HAProxy and iproute2, so `make test` checks for them too.
test: NEED_BROWSER := 1
test: NEED_PDF_TOOLS := 1
test: NEED_BALANCER := 1
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite on PostgreSQL, as CI's second pass: it starts PostgreSQL and Redis first (installing
# them when missing, as CI does). The race tests run only here, as SQLite serialises every writer;
# run it before a change to locking or concurrent writes is done. PYTEST_ARGS narrows it
# (`make test-pg PYTEST_ARGS=tests/checkout`); the browser suite runs in `make test` only.
PG_TEST_DATABASE_URL ?= postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test
PG_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
test-pg: NEED_PDF_TOOLS := 1
test-pg: NEED_BALANCER := 1
test-pg: install
	bash .ci/start-services
	REQUIRE_TEST_SERVICES=1 TEST_DATABASE_URL=$(PG_TEST_DATABASE_URL) \
	  TEST_REDIS_URL=$${TEST_REDIS_URL:-$(PG_TEST_REDIS_URL)} \
	  $(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

# Every benchmark in bench/ (catalog, preview, load), then one table of figures and ratios.
# Full sizes take a quarter of an hour or more (catalog loads 100,000 beats); QUICK=1 runs
# smaller sizes in a few minutes. They need PostgreSQL and Redis: this starts them
# (installing them when missing, as CI does). bench/load.py runs two app hosts in network
# namespaces behind HAProxy, which needs root (and HAProxy, installed here when root).
BENCH_DATABASE_URL ?= postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
bench: NEED_BALANCER := 1
bench: install
	bash .ci/start-services
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
	  $(BIN)/python bench/run_all.py $(if $(QUICK),--quick)

# Lighthouse on every web page, as a phone and as a desktop, against the demo store in Debian's
# Chromium (bench/lighthouse.py); Lighthouse itself is pinned in bench/lighthouse (needs npm).
# LIGHTHOUSE_ARGS="--only /,/studio --profiles mobile" measures fewer pages.
LIGHTHOUSE := bench/lighthouse/node_modules/.bin/lighthouse
$(LIGHTHOUSE): bench/lighthouse/package.json bench/lighthouse/package-lock.json
	cd bench/lighthouse && npm ci --no-audit --no-fund --silent
	touch $@

lighthouse: NEED_BROWSER := 1
lighthouse: install $(LIGHTHOUSE)
	$(BIN)/python bench/lighthouse.py $(LIGHTHOUSE_ARGS)

install: system-packages $(INSTALLED)

# Installs Debian packages only when a command is missing; without root or sudo it says
# exactly what to install and stops.
system-packages:
	@missing=""; \
	command -v $(PYTHON) >/dev/null || missing="$$missing python3"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf || missing="$$missing fonts-droid-fallback"; \
	test -f /usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf || missing="$$missing fonts-noto-core"; \
	test -f /usr/share/fonts/truetype/nanum/NanumGothic.ttf || missing="$$missing fonts-nanum"; \
	test -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf || missing="$$missing fonts-symbola"; \
	test -z "$(NEED_PDF_TOOLS)" || command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	test -z "$(NEED_BROWSER)" || test -x /usr/bin/chromium || missing="$$missing chromium"; \
	balancer=$$([ -n "$(NEED_BALANCER)" ] && [ "$$(id -u)" = 0 ] && echo 1); \
	test -z "$$balancer" || test -x /usr/sbin/haproxy || missing="$$missing haproxy"; \
	test -z "$$balancer" || test -x /usr/sbin/ip || test -x /usr/bin/ip || missing="$$missing iproute2"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "Missing Debian packages:$$missing. Install them with: sudo apt-get install -y$$missing"; exit 1; fi; \
	  echo "Installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq$$missing; \
	fi

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

migrate: install
	$(BIN)/flask db upgrade

# Refreshes the vendored front-end code (Swagger UI, uPlot) from its pinned npm packages (needs npm).
SWAGGER_UI_VERSION := 5.35.0
UPLOT_VERSION := 1.6.32
vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null \
	  && tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz \
	  && cp package/swagger-ui-bundle.js package/swagger-ui.css \
	        package/LICENSE $(CURDIR)/static/vendor/swagger-ui/ && rm -rf $$tmp
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null \
	  && tar xzf uplot-$(UPLOT_VERSION).tgz \
	  && cp package/dist/uPlot.esm.js package/dist/uPlot.min.css package/LICENSE $(CURDIR)/static/vendor/uplot/ \
	  && rm -rf $$tmp
	cd static/vendor && sha256sum -c SHA256SUMS

clean:
	rm -rf $(VENV) .pytest_cache
