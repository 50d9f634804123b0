"""`python -m inferwise.cli`: the same as the `inferwise` command."""

from inferwise.cli import main

raise SystemExit(main())
