"""Keep library warnings out of the command-line tools' output."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def no_library_warnings() -> Iterator[None]:
    """Rasa's dependencies warn on import, and Rasa puts its own warning filters first,
    so filters alone do not silence them; while this is active nothing is shown."""
    shown = warnings.showwarning
    warnings.showwarning = lambda *args, **kwargs: None
    try:
        yield
    finally:
        warnings.showwarning = shown
