"""``python -m kpidsl ...``: the ``kpidsl`` command (for an environment whose scripts are not on PATH)."""

from kpidsl.cli import main

raise SystemExit(main())
