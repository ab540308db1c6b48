"""The two bots the benchmark compares: how each is trained, served and talked to."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator, List, Optional, Protocol

from tools.benchmark import reference_bot
from tools.running.serverctl import ROOT, Server, free_port, running_assistant

OURS, REFERENCE = "ours", "reference"
# Our trained model (`make train`); the benchmark copies it before each start.
OUR_MODEL = ROOT / "models" / "careers.tar.gz"

# Ten messages as someone might send them: a greeting, a question, an eligibility
# check driven to a verdict, why that verdict, two more questions, goodbye.
OUR_CONVERSATION = [
    "hi",
    "what is the STP?",
    "can I apply for the STP?",
    "2:2",
    "MSc",
    "medical physics",
    "why?",
    "what skills do I need?",
    "what GCSEs do I need for the PTP?",
    "thanks, bye",
]


class Running(Protocol):
    """What a started bot offers: its REST base URL and its server processes."""

    @property
    def url(self) -> str: ...

    @property
    def rasa(self) -> Server: ...

    @property
    def actions(self) -> Optional[Server]: ...


@dataclass
class Bot:
    key: str  # OURS or REFERENCE
    title: str
    project: Path  # where `rasa train` and the parsing subprocess run
    model: Path
    train_args: List[str]  # after `rasa train`
    conversation: List[str]
    serve: Callable[[Path], ContextManager[Running]]  # a work folder -> the running bot


def our_bot(model: Path) -> Bot:
    return Bot(
        key=OURS,
        title="ours (careers adviser)",
        project=ROOT,
        model=model,
        train_args=["--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        conversation=OUR_CONVERSATION,
        # As `make run` starts it: the action server, then Rasa with a SQLite store.
        serve=lambda workdir: running_assistant(model, workdir),
    )


@dataclass
class _RunningReference:
    url: str
    rasa: Server
    actions: Optional[Server] = None


def the_reference_bot(project: Path) -> Bot:
    model = reference_bot.reference_model(project)

    @contextmanager
    def serve(workdir: Path) -> Iterator[Running]:
        # As shipped: its own credentials (REST) and endpoints (no action server,
        # conversations kept in memory).
        port = free_port()
        rasa = Server(
            "reference Rasa",
            [
                reference_bot.RASA,
                "run",
                "--model",
                str(model),
                "--port",
                str(port),
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
            ],
            workdir / "reference-rasa.log",
            cwd=project,
        )
        url = f"http://localhost:{port}"
        try:
            rasa.start(url + "/")
            yield _RunningReference(url, rasa)
        finally:
            rasa.stop()

    return Bot(
        key=REFERENCE,
        title="reference (`rasa init`)",
        project=project,
        model=model,
        train_args=[],
        conversation=reference_bot.CONVERSATION,
        serve=serve,
    )


def snapshot(model: Path, into: Optional[Path] = None) -> Path:
    """A copy of the model, so that a retrain during the run does not change it."""
    folder = into or Path(tempfile.mkdtemp(prefix="bench-model-"))
    copy = folder / model.name
    shutil.copy2(model, copy)
    return copy
