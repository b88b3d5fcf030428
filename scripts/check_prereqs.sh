#!/usr/bin/env bash
# Checks the three prerequisites README lists, with one clear line per problem.
set -uo pipefail
fail=0
need() { # name, found version, minimum, how to get it
  if [ -z "$2" ]; then echo "missing prerequisite: $1 >= $3 ($4)" >&2; fail=1; return; fi
  if [ "$(printf '%s\n%s\n' "$3" "$2" | sort -V | head -n1)" != "$3" ]; then
    echo "prerequisite too old: $1 $2 found, >= $3 needed ($4)" >&2; fail=1
  fi
}
py=$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)
need python3 "$py" 3.11 "https://www.python.org/downloads/ or your OS packages"
node_v=$(node --version 2>/dev/null | sed 's/^v//' || true)
need node "$node_v" 20 "https://nodejs.org/ or your OS packages"
tf=$(terraform version 2>/dev/null | head -n1 | sed -n 's/^Terraform v//p' || true)
need terraform "$tf" 1.10 "https://developer.hashicorp.com/terraform/install"
[ $fail -eq 0 ] && echo "prerequisites: python3 $py, node $node_v, terraform $tf"
exit $fail
