"""``python -m bot``: the same entry point as the ``kezdesu`` console script."""

import sys

from bot.cli import main

sys.exit(main())
