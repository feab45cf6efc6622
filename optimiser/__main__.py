"""``python -m optimiser``: see :mod:`optimiser.cli`."""

import sys

from optimiser.cli import main

sys.exit(main())
