"""Shared fixtures (the real rules file, rasa-sdk trackers for action tests, the trained
model in-process, headless Chromium) and the test tiers.

The tiers (docs/developers.md, "Tests"): every test is a unit test, run by `make unit`
in under a minute without a trained model or a server, unless it is marked
  model    the trained model in this process, or one the test trains (make test-model)
  servers  the real servers over HTTP: Rasa, the action server, nginx, PostgreSQL
           (make test-servers)
  browser  the widget or a page in headless Chromium (make test-browser)
  infra    container images and Kubernetes manifests: hadolint, checkov, schemas
           (make test-infra)
A test module says its tier with `pytestmark`, or is named in MODULE_TIERS; a test
that asks for the `assistant` fixture is a model test wherever it is. `make test`
runs every tier (not stress, not scale) in one pytest session."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from careers.rules_file import EntryRules, default_rules

ROOT = Path(__file__).resolve().parents[1]

TIERS = ("model", "servers", "browser", "infra")
# Modules whose every test is in a tier, beside those that mark themselves.
MODULE_TIERS: Dict[str, str] = {
    "test_container_images.py": "infra",
    "test_kubernetes_manifests.py": "infra",
    "test_widget.py": "browser",
    "test_class_check_page.py": "browser",
    "test_socketio_channel.py": "browser",
    "test_random_conversations.py": "model",
    "test_tracker_store.py": "model",
}
# Fixtures that put a test in a tier.
FIXTURE_TIERS: Dict[str, str] = {"assistant": "model", "browser": "browser"}


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    """Marks each test with its tier (see the module's docstring), so that
    `-m "not model and not servers and not browser and not infra"` is the unit tier."""
    for item in items:
        tiers = {MODULE_TIERS.get(item.path.name)} | {
            FIXTURE_TIERS.get(name) for name in getattr(item, "fixturenames", ())
        }
        for tier in sorted(t for t in tiers if t):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def fresh_limits():
    """Each test's channels read the limits from the environment as it sets them: a
    server makes its one shared allowance once (channels.limits.shared)."""
    from channels import limits

    limits._shared = None
    yield
    limits._shared = None


@pytest.fixture(scope="session")
def rules() -> EntryRules:
    return default_rules()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    **parse_extras: Any,
) -> Tracker:
    """A tracker whose latest message is `text`, parsed as `intent` with `entities`."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        **parse_extras,
    }
    return Tracker(
        sender_id="test-user",
        slots=dict(slots or {}),
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return make_tracker


@pytest.fixture(scope="session")
def assistant():
    """The trained model in this process, with the real actions (loaded once)."""
    from tools.careers_team.converse import DEFAULT_MODEL, InProcessAssistant

    assert DEFAULT_MODEL.exists(), "no trained model: run `make train` (make test does it)"
    running = InProcessAssistant(DEFAULT_MODEL)
    yield running
    running.close()


@pytest.fixture(scope="session")
def live_assistant(tmp_path_factory):
    """One action server and one Rasa server for the whole session, as `make run` starts
    them (with this checkout's REST token), shared by the server tests that need
    nothing else (test_servers, test_chat, test_conversation_scripts): each uses its
    own conversation ids. A test that needs other settings starts servers of its own."""
    from tests.live_servers import servers_with_checkout_token

    with servers_with_checkout_token(tmp_path_factory.mktemp("live")) as running:
        yield running


@pytest.fixture(scope="session")
def nlp(tmp_path_factory):
    """The spaCy pipeline built from nlp/patterns and the rules file, as `make spacy` builds it."""
    import spacy

    from nlp.build_pipeline import build

    output = tmp_path_factory.mktemp("spacy") / "pipeline"
    build(output)
    return spacy.load(output)


@pytest.fixture(scope="session")
def entities_of(nlp):
    """What the NLU's entity extractor finds in a text, as Rasa passes it to the actions."""
    from rasa.nlu.utils.spacy_utils import SpacyModel
    from rasa.shared.nlu.training_data.message import Message

    from nlp.rasa_components import CareersEntityExtractor

    extractor = CareersEntityExtractor({"dimensions": None})
    model = SpacyModel(model=nlp, model_name="test")

    def extract(text: str) -> List[Dict[str, Any]]:
        message = Message({"text": text})
        extractor.process([message], model)
        return message.get("entities") or []

    return extract


# Browser tests (tests/test_widget.py, tests/test_class_check_page.py) ----------------

SHOTS = Path(__file__).resolve().parents[1] / "results" / "widget"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, for one test module."""
    from playwright.sync_api import sync_playwright

    from tests.harness.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def checked_tab(
    browser: Any, name: str, shots: Path = SHOTS, full_page: bool = False, **context: Any
) -> Iterator[Any]:
    """A fresh tab (empty storage) that fails the test on any script error; a screenshot
    of its end state goes to `shots`/<name>.png."""
    tab_context = browser.new_context(**context)
    tab = tab_context.new_page()
    errors: List[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    shots.mkdir(parents=True, exist_ok=True)
    try:
        tab.screenshot(path=str(shots / f"{name}.png"), full_page=full_page)
    finally:
        tab_context.close()
    assert not errors, f"script errors on the page: {errors}"
