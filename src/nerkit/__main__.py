"""`python -m nerkit` runs the command line."""

import sys

from nerkit.cli import main

sys.exit(main())
