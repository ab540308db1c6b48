"""`python -m tools.careers_team.report`: see `command.py`."""

import sys

from runtime.quiet import no_library_warnings
from tools.careers_team.report.command import main

with no_library_warnings():
    status = main()
sys.exit(status)
