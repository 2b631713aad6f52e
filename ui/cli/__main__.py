"""``python -m ui.cli``: the same as the ``vidsearch`` command."""

import sys

from ui.cli import main

sys.exit(main())
