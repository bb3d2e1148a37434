"""bloodq API with its embedded worker pool: ``python main.py``."""

import sys

from bloodq.service import run

if __name__ == '__main__':
    sys.exit(run('api'))
