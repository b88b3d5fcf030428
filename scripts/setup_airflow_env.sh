#!/usr/bin/env bash
# Build (or verify) the local Airflow runtime in .venv-airflow/ at the repo root.
#
#   scripts/setup_airflow_env.sh            install/sync; a no-op when nothing changed
#   scripts/setup_airflow_env.sh --compile  re-lock airflow/constraints.txt, then sync
#   scripts/setup_airflow_env.sh --force    rebuild even if the stamp matches
#
# Why uv: pip backtracks for 20+ minutes on Airflow 3 + providers without a lock;
# uv resolves in ~25 s. Why --compile-bytecode: this machine sets
# PYTHONDONTWRITEBYTECODE=1, so without .pyc files every import re-parses sources
# (the airflow CLI goes from ~6 s to ~15 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIRFLOW_DIR="$ROOT/airflow"
VENV="$ROOT/.venv-airflow"
REQ="$AIRFLOW_DIR/requirements.txt"
REQ_DEV="$AIRFLOW_DIR/requirements-dev.txt"
LOCK="$AIRFLOW_DIR/constraints.txt"
MWAA_PINS="$AIRFLOW_DIR/mwaa-essential-constraints.txt"
STAMP="$VENV/.setup-stamp"
PYTHON_VERSION="3.11"          # local interpreter (the only one on these machines)
MWAA_PYTHON_VERSION="3.12"     # what the MWAA 3.3.1 image runs; the lock must resolve there too
MWAA_CONSTRAINT_LINE='--constraint "/usr/local/airflow/dags/constraints.txt"'

# Caches stay inside the repo (ignored by git) so CI and laptops behave the same
# and nothing leaks into the home folder.
export UV_CACHE_DIR="$ROOT/.cache/uv"
# Fail clearly instead of downloading an interpreter (no internet beyond PyPI here).
export UV_PYTHON_DOWNLOADS=never
export UV_NO_PROGRESS=1

die() { echo "setup_airflow_env: $*" >&2; exit 1; }

mode="sync"
for arg in "$@"; do
  case "$arg" in
    --compile) mode="compile" ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown flag '$arg' (expected --compile, --force or --help)" ;;
  esac
done

command -v uv >/dev/null 2>&1 || die "uv not found on PATH (install it with: pip install uv)"
for f in "$REQ" "$REQ_DEV" "$MWAA_PINS"; do
  [[ -f "$f" ]] || die "missing input file $f"
done

# requirements.txt is shipped to MWAA verbatim, so its first line must be the
# DAG-folder constraint; check it here rather than discover it at deploy time.
first_line="$(head -n 1 "$REQ")"
[[ "$first_line" == "$MWAA_CONSTRAINT_LINE" ]] \
  || die "$REQ line 1 must be: $MWAA_CONSTRAINT_LINE (found: $first_line)"

mkdir -p "$UV_CACHE_DIR"
# The MWAA constraint path does not exist locally, so install from a copy without
# it and pass the lock explicitly; the rest of the file is used unchanged.
LOCAL_REQ="$ROOT/.cache/airflow-requirements.local.txt"
grep -v -- '^--constraint ' "$REQ" > "$LOCAL_REQ"

if [[ "$mode" == "compile" ]]; then
  echo "setup_airflow_env: locking $LOCK (python $PYTHON_VERSION, linux x86_64)"
  tmp_lock="$(mktemp "$ROOT/.cache/constraints.XXXXXX")"
  trap 'rm -f "$tmp_lock"' EXIT
  (cd "$ROOT" && uv pip compile \
      ".cache/airflow-requirements.local.txt" "airflow/requirements-dev.txt" \
      --constraint "airflow/mwaa-essential-constraints.txt" \
      --python-version "$PYTHON_VERSION" \
      --python-platform x86_64-unknown-linux-gnu \
      --custom-compile-command "scripts/setup_airflow_env.sh --compile" \
      --quiet --output-file "$tmp_lock") || die "resolution failed; lock left unchanged"
  # The same pins must also install on MWAA's interpreter, or the file we upload
  # to the DAG bucket would break the environment update.
  (cd "$ROOT" && uv pip compile \
      ".cache/airflow-requirements.local.txt" \
      --constraint "$tmp_lock" \
      --python-version "$MWAA_PYTHON_VERSION" \
      --python-platform x86_64-unknown-linux-gnu \
      --quiet --output-file /dev/null) \
    || die "lock does not resolve on python $MWAA_PYTHON_VERSION (MWAA); lock left unchanged"
  mv "$tmp_lock" "$LOCK"
  trap - EXIT
fi

[[ -f "$LOCK" ]] || die "missing $LOCK; run: scripts/setup_airflow_env.sh --compile"

# Everything that determines the venv's content goes into the stamp, including
# this script, so editing the install recipe also triggers a rebuild.
inputs_hash="$(cat "$REQ" "$REQ_DEV" "$LOCK" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
inputs_hash="$inputs_hash python$PYTHON_VERSION"

if [[ -z "${FORCE:-}" && -f "$STAMP" && "$(cat "$STAMP")" == "$inputs_hash" \
      && -x "$VENV/bin/python" ]]; then
  echo "setup_airflow_env: $VENV is up to date"
  exit 0
fi

start=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  uv venv --quiet --python "$PYTHON_VERSION" "$VENV" \
    || die "could not create $VENV with python $PYTHON_VERSION"
fi
# Drop the stamp first: an install interrupted half-way must not look complete.
rm -f "$STAMP"

# `sync` (not `install`) so packages removed from the lock also leave the venv;
# the lock is the complete, pinned closure of requirements + dev tools.
uv pip sync --quiet --python "$VENV/bin/python" --compile-bytecode "$LOCK" \
  || die "installing $LOCK into $VENV failed"
# Prove the unmodified requirement files are satisfied by what the lock installed
# (catches a requirements.txt edit that was not re-locked).
uv pip install --quiet --python "$VENV/bin/python" --compile-bytecode \
    -r "$LOCAL_REQ" -r "$REQ_DEV" --constraint "$LOCK" --offline \
  || die "requirements.txt and constraints.txt disagree; run: scripts/setup_airflow_env.sh --compile"

echo "$inputs_hash" > "$STAMP"
echo "setup_airflow_env: $VENV ready in $(( $(date +%s) - start )) s"
