"""bloodq standalone consumer (needs Redis): ``WORKER_COUNT=4 python worker.py``."""

import sys

from bloodq.service import run

if __name__ == '__main__':
    sys.exit(run('worker'))
