# toolreg — every task a developer or CI runs. `make dev` and `make test` set up everything they
# need on a fresh machine (Amazon DynamoDB Local from Maven Central; a project virtualenv with
# moto and the MCP SDK; the MCP Inspector CLI and the MCP conformance suite from npm, in
# .npm-tools/; the Rust build).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ARCH ?= arm64
RUST_TARGET_arm64 := aarch64-unknown-linux-gnu
RUST_TARGET_x86_64 := x86_64-unknown-linux-gnu

.PHONY: dev test lint fmt build package bench bench-instructions valgrind venv dynamodb-local inspector conformance clean infra console e2e chromium

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## The MCP Inspector CLI (needs node and npm), pinned, kept in .npm-tools/: tests/api/mcp_server.rs
## lists and calls /mcp's tools with it.
INSPECTOR_VERSION := 2.12.0
INSPECTOR := .npm-tools/node_modules/.bin/mcp-inspector
inspector: .npm-tools/.installed-$(INSPECTOR_VERSION)

.npm-tools/.installed-$(INSPECTOR_VERSION):
	mkdir -p .npm-tools
	npm install --prefix .npm-tools --no-audit --no-fund --silent @modelcontextprotocol/inspector@$(INSPECTOR_VERSION)
	touch $@

## The official MCP conformance suite, pinned, in .npm-tools/: tests/api/conformance.rs runs its
## client scenario `initialize` against the prober (`toolreg probe URL`) and its server scenario
## `dns-rebinding-protection` against /mcp. 0.1.16 imports `fs.globSync`, which Node 20 lacks;
## the tests run it unmodified under `node --import scripts/node-globsync/register.mjs`.
CONFORMANCE_VERSION := 0.1.16
conformance: .npm-tools/.installed-conformance-$(CONFORMANCE_VERSION)

.npm-tools/.installed-conformance-$(CONFORMANCE_VERSION):
	mkdir -p .npm-tools
	npm install --prefix .npm-tools --no-audit --no-fund --silent --save-exact @modelcontextprotocol/conformance@$(CONFORMANCE_VERSION)
	touch $@

## Amazon DynamoDB Local (needs java and mvn), kept in .dynamodb-local/.
dynamodb-local:
	scripts/dynamodb-local.sh install

## The admin console (console/: TypeScript + Vite, from npm with `npm ci`) and the vendored
## Swagger UI / Redoc bundles, built into shared/web/assets/, which toolreg-web embeds in the
## binaries of the /console and /docs routes. Rebuilt only when a source changes (a rebuild
## changes the embedded files, and so the Rust build). Without it the Rust build still works and
## those routes answer a page saying to run `make console`.
CONSOLE_BUILT := shared/web/assets/console/index.html
CONSOLE_SRC := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.ts \
	console/tsconfig.json console/package-lock.json console/scripts/vendor-docs.mjs
console: $(CONSOLE_BUILT)

console/node_modules/.installed: console/package-lock.json
	# `npm install --no-save` follows package-lock.json without rewriting it (`npm ci` refuses
	# this lock: npm leaves other platforms' optional rollup/esbuild packages out of it).
	cd console && npm install --no-save --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_BUILT): console/node_modules/.installed $(CONSOLE_SRC)
	cd console && npm run --silent build

## Debian's Chromium for the console's browser tests (playwright-core drives it; no browser
## download).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The console's end-to-end tests: a real browser against `make dev`'s stack (started by the
## test on free ports, with a real MCP server); writes the screenshots in docs/console/.
e2e: venv dynamodb-local console chromium
	cargo build -p toolreg-dev --bin local
	cd console && node e2e/run.mjs

## Run the whole service locally on http://127.0.0.1:8000 (PORT overrides). Ctrl-C stops it.
## The console is at /console, the API docs at /docs and /redoc.
dev: venv dynamodb-local console
	cargo build -p toolreg-dev --bin local
	scripts/dev.sh

## Run every test against a local stack the tests start themselves.
test: venv dynamodb-local inspector conformance console chromium
	cargo build --workspace --bins
	cargo test --workspace --no-fail-fast
	cd console && node e2e/run.mjs

## Regenerate from the route rows (routes::ALL, shared/core/src/routes/mod.rs):
## the route binaries (functions/src/bin, functions/Cargo.toml), infra/routes.json,
## infra/functions.json, infra/openapi.json (served by /openapi.json), template.yaml and infra/terraform/settings.tf (the settings, from
## scripts/gen_template.py's SETTINGS). tests/api/deploy.rs fails when any is stale.
infra:
	cargo run -q -p toolreg-cli -- bins functions
	cargo run -q -p toolreg-cli -- routes > infra/routes.json
	cargo run -q -p toolreg-cli -- functions > infra/functions.json
	cargo run -q -p toolreg-cli -- openapi > infra/openapi.json
	python3 scripts/gen_template.py infra/routes.json > template.yaml
	python3 scripts/gen_template.py --terraform-settings > infra/terraform/settings.tf

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Cross-build every Lambda function in one cargo invocation (ARCH=arm64|x86_64).
build: venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2
	rustup target add $(RUST_TARGET_$(ARCH))
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --$(ARCH) -p toolreg-functions

package: build
	scripts/package.sh

## Measure toolreg beside the FastAPI peer (../shared/comparator), instructions per request (and
## fail when a route grows > 10% against docs/benchmarks-instructions.json), cold start, memory,
## CPU per request, AWS calls per route, artefact sizes and re-probe throughput on release
## binaries; writes docs/benchmarks.md. Never part of `make test`.
bench: venv dynamodb-local valgrind
	cargo build --profile bench --workspace --bins
	# Cargo writes the bench profile's binaries to target/release.
	scripts/bench-peer.sh
	TOOLREG_BIN_PROFILE=release target/release/bench

## Only the instruction counts and their gate (a few minutes).
bench-instructions: venv dynamodb-local valgrind
	cargo build --profile bench -p toolreg-dev -p toolreg-tests --bins
	TOOLREG_BIN_PROFILE=release target/release/bench instructions

valgrind:
	@command -v valgrind >/dev/null || apt-get install -y valgrind

clean:
	cargo clean
	rm -rf $(VENV) .stack .dynamodb-local console/node_modules shared/web/assets/console shared/web/assets/docs
