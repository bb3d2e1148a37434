"""The analysis child's own limits, in a real child process."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import resource, time
from bloodq.child import _limit_cpu
for _ in range(4):
    _limit_cpu(600)
    end = time.process_time() + 0.6
    while time.process_time() < end:
        pass
soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
print(soft, hard)
"""


def test_cpu_limit_moves_forward_job_after_job() -> None:
    """The per-job CPU limit can be set again after the child has used seconds of CPU (no ValueError)."""
    run = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         check=False)
    assert run.returncode == 0, run.stderr
    soft, _ = (int(x) for x in run.stdout.split())
    assert 540 <= soft <= 545  # 90 % of the 600 s allowance, from the CPU already spent
