"""The reduced chaos run: 100 jobs through worker SIGKILLs, main.py restarts and Redis restarts."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_reduced_chaos_run_loses_nothing_and_completes_nothing_twice() -> None:
    """bench/chaos.py with 100 jobs and a few kills of each kind ends with lost=0, completed_twice=0."""
    run = subprocess.run(
        [sys.executable, str(ROOT / 'bench' / 'chaos.py'), '--jobs', '100', '--worker-kills', '3',
         '--api-restarts', '2', '--redis-restarts', '2', '--havoc-gap-s', '1.5', '--settle-s', '120'],
        capture_output=True, text=True, timeout=300, check=False,
    )
    figures = dict(line.split('=', 1) for line in run.stdout.splitlines() if '=' in line)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert figures['accepted'] == '100' and figures['completed'] == '100'
    assert figures['lost'] == '0' and figures['completed_twice'] == '0'
    assert int(figures['worker_kills']) == 3 and int(figures['redis_restarts']) == 2
