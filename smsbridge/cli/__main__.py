"""``python -m smsbridge.cli``."""

import sys

from smsbridge.cli import main

sys.exit(main())
