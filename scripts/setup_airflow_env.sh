#!/usr/bin/env bash
# Build (or verify) the local Airflow runtime in .venv-airflow/ at the repo root.
#
#   scripts/setup_airflow_env.sh            install/sync; a no-op when nothing changed
#   scripts/setup_airflow_env.sh --compile  re-lock airflow/constraints.txt, then sync
#   scripts/setup_airflow_env.sh --force    rebuild even if the stamp matches
#   AIRFLOW_VENV=/some/dir scripts/setup_airflow_env.sh   build that venv instead (a candidate next to a
#                                           .venv-airflow that others are using; default: .venv-airflow)
#
# Why uv: pip backtracks for 20+ minutes on Airflow 3 + providers without a lock;
# uv resolves in ~25 s. Why --compile-bytecode: this machine sets
# PYTHONDONTWRITEBYTECODE=1, so without .pyc files every import re-parses sources
# (the airflow CLI goes from ~6 s to ~15 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIRFLOW_DIR="$ROOT/airflow"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
REQ="$AIRFLOW_DIR/requirements.txt"
REQ_DEV="$AIRFLOW_DIR/requirements-dev.txt"
LOCK="$AIRFLOW_DIR/constraints.txt"
MWAA_PINS="$AIRFLOW_DIR/mwaa-essential-constraints.txt"
# The image's own constraints (official constraints-3.3.1/constraints-3.12.txt) and its preinstalled packages
# (its bill of materials): the lock is resolved inside both, so installing requirements.txt on MWAA moves nothing
# the image runs and only adds what the DAGs import.
MWAA_AIRFLOW_CONSTRAINTS="$AIRFLOW_DIR/mwaa-airflow-constraints.txt"
MWAA_IMAGE_PACKAGES="$AIRFLOW_DIR/mwaa-image-packages.txt"
OVERRIDES="$AIRFLOW_DIR/constraint-overrides.txt"  # the few, reasoned departures from the official constraints
STAMP="$VENV/.setup-stamp"
# The interpreter of the MWAA image this requirements file targets (aws/amazon-mwaa-docker-images,
# images/airflow/3.3.1/Dockerfile.base.j2: PYTHON_VERSION 3.12.x): the venv, the lock and every
# Airflow test run on the same minor version MWAA runs, so a 3.12-only break shows up here first.
PYTHON_VERSION="3.12"
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
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown flag '$arg' (expected --compile, --force or --help)" ;;
  esac
done

command -v uv >/dev/null 2>&1 || die "uv not found on PATH (install it with: pip install uv)"

# Find a python$PYTHON_VERSION without downloading one: PATH first, then pyenv's installed versions
# (a pyenv shim on PATH answers "command not found" for a version that is not selected).
find_python() {
  local candidate
  for candidate in "python$PYTHON_VERSION" "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"*"/bin/python$PYTHON_VERSION"; do
    if [[ -n "$candidate" ]] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  return 1
}
PYTHON="$(find_python)" || die "python $PYTHON_VERSION not found (MWAA's Airflow 3.3.1 image runs it): install it, e.g. pyenv install $PYTHON_VERSION, or your OS package python$PYTHON_VERSION"
for f in "$REQ" "$REQ_DEV" "$MWAA_PINS" "$MWAA_AIRFLOW_CONSTRAINTS" "$MWAA_IMAGE_PACKAGES" "$OVERRIDES"; do
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
  # Start from the current lock: uv keeps its pins unless a requirement changed, so a re-lock
  # moves only what it must instead of upgrading the whole closure.
  cp "$LOCK" "$tmp_lock" 2>/dev/null || true
  # uv applies a constraint even to an overridden package, so the official constraints go in without the
  # overridden names (matched as normalised names: lower case, runs of -_. as one -).
  overridden="$(sed -nE 's/^([A-Za-z0-9._-]+)==.*/\1/p' "$OVERRIDES" | tr 'A-Z_.' 'a-z--' | paste -sd'|')"
  tr 'A-Z_.' 'a-z--' < "$MWAA_AIRFLOW_CONSTRAINTS" | paste -d'\t' - "$MWAA_AIRFLOW_CONSTRAINTS" \
    | awk -F'\t' -v skip="^(${overridden:-^})==" '$1 !~ skip { print $2 }' > "$ROOT/.cache/mwaa-airflow-constraints.kept.txt"
  (cd "$ROOT" && uv pip compile \
      ".cache/airflow-requirements.local.txt" "airflow/requirements-dev.txt" \
      --constraint "airflow/mwaa-essential-constraints.txt" \
      --constraint ".cache/mwaa-airflow-constraints.kept.txt" \
      --constraint "airflow/mwaa-image-packages.txt" \
      --override "airflow/constraint-overrides.txt" \
      --python-version "$PYTHON_VERSION" \
      --python-platform x86_64-unknown-linux-gnu \
      --custom-compile-command "scripts/setup_airflow_env.sh --compile" \
      --quiet --output-file "$tmp_lock") || die "resolution failed; lock left unchanged"
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
venv_version() { "$1/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
if [[ -x "$VENV/bin/python" && "$(venv_version "$VENV")" != "$PYTHON_VERSION" ]]; then
  # An interpreter change needs a new venv (entry-point scripts name their interpreter by absolute path,
  # so a venv cannot be built elsewhere and moved). The stamp below marks completeness: an interrupted
  # build has none and is finished by the next run.
  echo "setup_airflow_env: $VENV runs python $(venv_version "$VENV"), not $PYTHON_VERSION: rebuilding"
  rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  uv venv --quiet --python "$PYTHON" "$VENV" \
    || die "could not create $VENV with $PYTHON"
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
