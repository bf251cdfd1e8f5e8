"""``python -m smsbridge`` runs the command line."""

import sys

from smsbridge.cli import main

sys.exit(main())
