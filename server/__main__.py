"""``python -m server`` runs the same command as ``hearth``."""

import sys

from server.cli import main

sys.exit(main())
