"""Synth of every environment, eager vs lazy provider loading, measured side by side.

Each mode runs `python main.py` in a fresh process (warm jsii cache, compiled
.pyc files, the state `make synth` runs in). Peak RSS is of the whole process
tree, Python plus the jsii node runtime, sampled every 20 ms from /proc.

Usage: python bench/synth_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    tree, stack, total = _children(), [root], 0
    while stack:
        pid = stack.pop()
        stack += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def measure(eager: bool) -> tuple[float, int]:
    env = {**os.environ, "CLOUD_CONDUCTOR_EAGER_PROVIDERS": "1" if eager else "0"}
    env.pop("CDKTF_OUTDIR", None)
    with tempfile.TemporaryDirectory(dir=REPO / ".cache") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "main.py"), "--outdir", f"{out}/cdktf.out"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"synth failed ({'eager' if eager else 'lazy'}): {proc.stderr.read().decode()[-2000:]}")
    return wall, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per mode; the best is reported")
    args = parser.parse_args()
    (REPO / ".cache").mkdir(exist_ok=True)
    measure(eager=False)  # warm-up: the jsii cache and page cache, so neither mode pays for them
    results = {}
    for mode in ("eager", "lazy"):
        runs = [measure(eager=(mode == "eager")) for _ in range(args.runs)]
        results[mode] = (min(r[0] for r in runs), max(r[1] for r in runs))
    (eager_s, eager_rss), (lazy_s, lazy_rss) = results["eager"], results["lazy"]
    print("synth of all environments (dev, staging, prod, local), one process each")
    print(f"{'mode':<8}{'wall s':>10}{'peak RSS MB':>14}")
    print(f"{'eager':<8}{eager_s:>10.1f}{eager_rss / 2**20:>14.0f}")
    print(f"{'lazy':<8}{lazy_s:>10.1f}{lazy_rss / 2**20:>14.0f}")
    print(f"lazy is {eager_s / lazy_s:.1f}x faster and uses {eager_rss / lazy_rss:.1f}x less memory")
    print("targets: lazy <= 15 s, >= 5x faster, peak RSS <= 1200 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
