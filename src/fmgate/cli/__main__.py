"""``python -m fmgate.cli``: the ``fmgate`` command from a checkout or a venv without scripts."""

from fmgate.cli import main

raise SystemExit(main())
