"""`python -m outlook_calendar_mcp` = the `outlook-calendar-mcp` command."""

import sys

from .cli import main

sys.exit(main())
