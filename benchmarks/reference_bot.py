"""The bot `rasa init --no-prompt` makes, with the same Rasa as ours: built once into
build/bench/reference-<version>/ (the project and its trained model) and reused."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Dict

from tests.harness.serverctl import RASA, ROOT

CACHE = ROOT / "build" / "bench"

# Ten messages of the reference bot's own domain (its data/nlu.yml): greetings, moods,
# yes and no, "are you a bot?", goodbye.
CONVERSATION = [
    "hello",
    "I am sad",
    "yes",
    "are you a bot?",
    "good morning",
    "not very good",
    "no",
    "I am great",
    "am I talking to a human?",
    "bye",
]


def rasa_version() -> str:
    """The installed Rasa's version, without importing Rasa."""
    return importlib.metadata.version("rasa")


def reference_model(project: Path) -> Path:
    """The model `rasa init` trained (the newest, should there be more)."""
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError(f"no trained model in {project / 'models'}")
    return models[-1]


def build_reference(cache: Path = CACHE, say: Callable[[str], None] = print) -> Path:
    """The reference project folder, made and trained by `rasa init` unless cached.
    It is built beside its final place and moved there only once trained."""
    project = cache / f"reference-{rasa_version()}"
    if (project / "models").is_dir() and any((project / "models").glob("*.tar.gz")):
        return project
    cache.mkdir(parents=True, exist_ok=True)
    say(f"Building the reference bot with `rasa init` in {project} (once, a few minutes)")
    scratch = Path(tempfile.mkdtemp(prefix="reference-", dir=cache))
    try:
        with open(cache / f"{project.name}.log", "wb") as output:
            subprocess.run(
                [RASA, "init", "--no-prompt", "--init-dir", str(scratch)],
                cwd=scratch,
                env=_rasa_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
            )
        reference_model(scratch)
        if project.exists():
            shutil.rmtree(project)
        scratch.rename(project)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return project


def _rasa_env() -> Dict[str, str]:
    # `rasa init` keeps its training cache in the project (.rasa/cache), as shipped.
    env = {k: v for k, v in os.environ.items() if k != "RASA_CACHE_DIRECTORY"}
    return {**env, "RASA_TELEMETRY_ENABLED": "false"}
