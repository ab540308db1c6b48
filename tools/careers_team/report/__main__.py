"""`python -m tools.careers_team.report`: see `command.py`."""

import sys

from tools.careers_team.report.command import main
from tools.quiet import no_library_warnings

with no_library_warnings():
    status = main()
sys.exit(status)
