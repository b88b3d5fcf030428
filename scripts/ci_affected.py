"""Which environments a pull request's changed files affect, so CI plans only those.

Usage: git diff --name-only BASE...HEAD | python scripts/ci_affected.py   (prints a JSON list)

- ``environments/<env>.yaml`` affects that environment only.
- Code every environment synthesizes from (stacks/, modules/, environments/*.py, main.py,
  cdktf.json, Pipfile.lock, policy/) affects every deployable environment, and so does airflow/:
  the orchestration stack uploads the DAG bundle (modules/aws/dag_bundle.py) and the schema
  reads the domain contracts (airflow/dags/domains/*.yaml).
- Anything else (docs, tests) affects none: no plan to post.
- ``local`` is never planned from CI (it targets stand-ins on the developer's machine).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_SHARED = ("stacks/", "modules/", "environments/schema.py", "environments/naming.py", "main.py",
           "cdktf.json", "Pipfile.lock", "policy/", "airflow/")
_NOT_FROM_CI = {"local"}


def deployable(env_dir: Path = REPO / "environments") -> list[str]:
    return sorted(p.stem for p in env_dir.glob("*.yaml") if p.stem not in _NOT_FROM_CI)


def affected(changed: list[str], envs: list[str]) -> list[str]:
    hit: set[str] = set()
    for path in (c.strip() for c in changed if c.strip()):
        if path.startswith("environments/") and path.endswith(".yaml"):
            stem = Path(path).stem
            if stem in envs:
                hit.add(stem)
        elif any(path == s or path.startswith(s) for s in _SHARED):
            return list(envs)
    return sorted(hit)


def main() -> int:
    print(json.dumps(affected(sys.stdin.read().splitlines(), deployable())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
