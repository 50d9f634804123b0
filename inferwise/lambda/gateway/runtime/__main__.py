"""`python -m gateway.runtime`: the Runtime API loop (started by `launch`)."""

import sys

from .loop import main

if __name__ == "__main__":
    sys.exit(main())
