"""``python -m api ...``: see ``api.cli``."""

from api.cli import main

raise SystemExit(main())
