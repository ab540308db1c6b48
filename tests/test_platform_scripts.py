"""The content team's conversation scripts, played as Slack and Teams send them: each
turn a signed Slack event or a Teams activity with a Bot Framework token, each click
the platform's own (a block_actions interaction, a messageBack), to the real servers;
the replies read back from the stand-ins where the assistant posts them
(tools/careers_team/platforms.py). Every script runs this way with
`python -m tools.careers_team.converse --channel slack` (or teams); here, a sample
of them: verdicts of each kind, both programmes, clicks, and feedback."""

from __future__ import annotations

import pytest

from tests.harness.serverctl import ROOT
from tools.careers_team.conversation_scripts import load_scripts
from tools.careers_team.converse import DEFAULT_SCRIPTS, run_conversation
from tools.careers_team.platforms import PLATFORMS, platform_assistant

MODEL = ROOT / "models" / "careers.tar.gz"
SAMPLE = {
    "eligibility-stp.yml": [
        "A 2:1 in physics, clicking buttons",
        "A 2:1 in chemistry without a higher degree may be eligible",
        "A 2:2 and no higher degree is not eligible",
    ],
    "eligibility-ptp.yml": ["GCSEs and three A-levels with a science, clicking buttons"],
    "feedback.yml": [
        "Thumbs up after an answer",
        "Not asked in the middle of a check, asked after the verdict",
    ],
}
CONVERSATIONS = [
    conversation
    for file, names in SAMPLE.items()
    for conversation in load_scripts([DEFAULT_SCRIPTS / file])
    if conversation.name in names
]


def test_the_sample_is_in_the_scripts():
    assert len(CONVERSATIONS) == sum(len(names) for names in SAMPLE.values())


@pytest.fixture(scope="module", params=PLATFORMS)
def assistant(request, tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train`"
    with platform_assistant(request.param, MODEL, tmp_path_factory.mktemp(request.param)) as running:
        yield running
        # Nothing the assistant sent would the platform have refused.
        assert running.standin.rejected == []


@pytest.mark.servers
@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.name)
def test_the_script_passes_through_the_platform(assistant, conversation):
    result = run_conversation(assistant, conversation)
    assert result.passed, result.failure()
