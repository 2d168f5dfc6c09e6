"""``python -m theorems ...``: the ``theorycheck`` command line (theorems/frontends/cli.py)."""
import sys

from theorems.frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
