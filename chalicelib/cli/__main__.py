"""`python -m chalicelib.cli`: the `leadscore` command without its installed script."""

import sys

from chalicelib.cli import main

sys.exit(main())
