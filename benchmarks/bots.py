"""The two bots the benchmark compares: how each is trained, served and talked to."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Dict, Iterator, List, Optional, Protocol

from benchmarks import reference_bot
from benchmarks.platforms import Platforms
from benchmarks.shapes import CHECK_COMPLETED, MIXED, OUR_SHAPES, Shape, reference_shapes
from tests.harness.serverctl import ROOT, Server, free_port, running_assistant

OURS, REFERENCE = "ours", "reference"
# Our trained model (`make train`); the benchmark copies it before each start.
OUR_MODEL = ROOT / "models" / "careers.tar.gz"

# Our conversation as the results record it, beside the reference's: a check driven
# to its verdict (the shapes and the load have their own, benchmarks/shapes.py).
OUR_CONVERSATION = list(CHECK_COMPLETED)
# The bench talks to our server from one address, as many people at once: the limits
# each address and conversation gets (channels/limits.py) are raised for it, as they
# would be behind a proxy that names each person's address.
LOAD_LIMITS = {
    "SOCKETS_PER_CLIENT": "1000",
    "NEW_CONVERSATIONS_PER_MINUTE": "100000",
    "NEW_CONVERSATION_BURST": "100000",
    "MESSAGES_PER_MINUTE": "100000",
    "MESSAGE_BURST": "100000",
}


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
    shapes: Dict[str, Shape]  # by the key of our shape each stands beside
    load_conversation: List[str]  # what each of many conversations at once sends
    serve: Callable[[Path], ContextManager[Running]]  # a work folder -> the running bot


@dataclass
class _RunningOurs:
    url: str
    rasa: Server
    actions: Optional[Server]
    platforms: Platforms


@contextmanager
def _serve_ours(model: Path, workdir: Path) -> Iterator[Running]:
    # As `make run` starts it (the action server, then Rasa with a SQLite store), with
    # Slack and Teams pointing at their stand-ins.
    platforms = Platforms()
    try:
        with running_assistant(model, workdir, env={**LOAD_LIMITS, **platforms.env()}) as assistant:
            yield _RunningOurs(assistant.url, assistant.rasa, assistant.actions, platforms)
    finally:
        platforms.close()


def our_bot(model: Path) -> Bot:
    return Bot(
        key=OURS,
        title="ours (careers adviser)",
        project=ROOT,
        model=model,
        train_args=["--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        conversation=OUR_CONVERSATION,
        shapes={shape.key: shape for shape in OUR_SHAPES},
        load_conversation=list(next(s for s in OUR_SHAPES if s.key == MIXED).messages),
        serve=lambda workdir: _serve_ours(model, workdir),
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
        shapes=reference_shapes(reference_bot.CONVERSATION),
        load_conversation=reference_bot.CONVERSATION,
        serve=serve,
    )


def snapshot(model: Path, into: Optional[Path] = None) -> Path:
    """A copy of the model, so that a retrain during the run does not change it."""
    folder = into or Path(tempfile.mkdtemp(prefix="bench-model-"))
    copy = folder / model.name
    shutil.copy2(model, copy)
    return copy
