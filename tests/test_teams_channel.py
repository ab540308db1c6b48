"""The Microsoft Teams channel (channels/teams.py) against a stand-in for Microsoft's
side (tests/harness/bot_framework_standin.py): its token checks one by one, the
webhook's handling of activities without a server, the activities it renders, and
then (marked `servers`) the real assistant answering through Teams, with every
refused token producing no reply."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import struct
import time
import zipfile
import zlib
from typing import Any, Callable, Dict, List, Optional

import pytest

from careers.vocabulary import VERDICT_LABELS, VERDICT_MARKS
from channels import limits, ownership
from channels.teams import (
    ADAPTIVE_CARD,
    HERO_CARD,
    MIN_REFRESH_SECONDS,
    NOT_CONFIGURED,
    BotConnector,
    BotFrameworkAuth,
    TeamsInput,
    TeamsOutput,
    Unauthorized,
    conversation_id,
    message_text,
    normalised_url,
    teams_message,
)
from tests.harness.bot_framework_standin import (
    BotFrameworkStandIn,
    assessment_of,
    buttons_of,
    new_key,
    rasa_messages,
    text_of,
)
from tests.harness.serverctl import ROOT, free_port, running_assistant
from tools.careers_team.conversation_scripts import Reply, Turn, check_reply, find_button, load_scripts
from tools.running import teams_package

MODEL = ROOT / "models" / "careers.tar.gz"
CONVERSATION_SECRET = b"a-conversation-secret-for-the-teams-tests"
OTHER_TENANT = "99999999-8888-4777-8666-555555555555"


@pytest.fixture(autouse=True)
def conversation_secret(monkeypatch):
    """The secret the channel makes conversation ids with, read when it starts."""
    monkeypatch.setenv(ownership.CONVERSATION_SECRET, CONVERSATION_SECRET.decode())


@pytest.fixture(scope="module")
def microsoft():
    with BotFrameworkStandIn() as standin:
        yield standin
    # Nothing the bot posted would Teams have refused to show.
    assert standin.rejected == []


@pytest.fixture(scope="module")
def stranger_key():
    """An RSA key Microsoft never listed: what an attacker signs with."""
    return new_key()


@pytest.fixture
def auth(microsoft):
    return BotFrameworkAuth(microsoft.app_id, microsoft.openid_metadata_url)


def bearer(token: str) -> str:
    return f"Bearer {token}"


# -- the token checks, one at a time -------------------------------------------------


async def test_a_token_from_the_connector_is_accepted(microsoft, auth):
    claims = await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    assert claims["aud"] == microsoft.app_id
    assert claims["iss"] == "https://api.botframework.com"


def _refused_tokens(ms: BotFrameworkStandIn, stranger: Any) -> Dict[str, str]:
    now = int(time.time())
    return {
        "signed by another key with the same kid": ms.mint(key=stranger),
        "alg none": ms.mint(alg="none"),
        "HS256 with the public key as the secret": ms.mint(alg="HS256"),
        "wrong issuer": ms.mint({"iss": "https://sts.windows.net/some-tenant/"}),
        "wrong audience": ms.mint({"aud": "00000000-0000-4000-8000-000000000bad"}),
        "expired beyond the skew": ms.mint({"exp": now - 301 - 60, "nbf": now - 7200, "iat": now - 7200}),
        "not valid until beyond the skew": ms.mint({"nbf": now + 900}),
        "no expiry": ms.mint({"exp": None}),
        "another service URL": ms.mint({"serviceurl": "https://attacker.example/"}),
        "no service URL claim": ms.mint({"serviceurl": None}),
        "unknown kid": ms.mint(kid="a-key-nobody-listed"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "signed by another key with the same kid",
        "alg none",
        "HS256 with the public key as the secret",
        "wrong issuer",
        "wrong audience",
        "expired beyond the skew",
        "not valid until beyond the skew",
        "no expiry",
        "another service URL",
        "no service URL claim",
        "unknown kid",
    ],
)
async def test_a_bad_token_is_refused(microsoft, auth, stranger_key, case):
    token = _refused_tokens(microsoft, stranger_key)[case]
    with pytest.raises(Unauthorized):
        await auth.authenticate(bearer(token), microsoft.activity("hi"))


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer " + "a" * 20_000,
    ],
)
async def test_a_missing_or_malformed_authorization_header_is_refused(microsoft, auth, authorization):
    with pytest.raises(Unauthorized):
        await auth.authenticate(authorization, microsoft.activity("hi"))


async def test_tokens_within_the_clock_skew_are_accepted(microsoft, auth):
    now = int(time.time())
    activity = microsoft.activity("hi")
    await auth.authenticate(bearer(microsoft.mint({"exp": now - 120})), activity)
    await auth.authenticate(bearer(microsoft.mint({"nbf": now + 120, "iat": now})), activity)


async def test_the_service_url_is_compared_without_its_trailing_slash(microsoft, auth):
    activity = microsoft.activity("hi", service_url=microsoft.url)  # no slash; the token has one
    await auth.authenticate(bearer(microsoft.mint()), activity)
    # The connector spells the claim `serviceurl` (the stand-in's default); the
    # documentation's `serviceUrl` is read the same way.
    documented = microsoft.mint({"serviceurl": None, "serviceUrl": microsoft.service_url})
    await auth.authenticate(bearer(documented), activity)
    for spelling in ("serviceurl", "serviceUrl"):
        token = microsoft.mint({"serviceurl": None, spelling: "https://attacker.example/"})
        with pytest.raises(Unauthorized, match="service URL"):
            await auth.authenticate(bearer(token), activity)
    both = microsoft.mint({"serviceUrl": "https://attacker.example/"})  # and `serviceurl`: ours
    with pytest.raises(Unauthorized, match="service URL"):
        await auth.authenticate(bearer(both), activity)
    assert normalised_url("HTTPS://Smba.TrafficManager.net/emea/") == "https://smba.trafficmanager.net/emea"


async def test_an_activity_for_another_service_url_is_refused(microsoft, auth):
    activity = microsoft.activity("hi", service_url="https://attacker.example/")
    with pytest.raises(Unauthorized, match="service URL"):
        await auth.authenticate(bearer(microsoft.mint()), activity)


async def test_a_key_not_endorsed_for_the_channel_is_refused(microsoft, auth):
    webchat_only = microsoft.add_key(endorsements=["webchat"])
    with pytest.raises(Unauthorized, match="endorsed"):
        await auth.authenticate(bearer(microsoft.mint(kid=webchat_only)), microsoft.activity("hi"))
    # The stand-in's own key is endorsed for msteams, not for another channel.
    with pytest.raises(Unauthorized, match="endorsed"):
        await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi", channel_id="webchat"))


async def test_an_unknown_key_id_fetches_the_keys_once_then_is_refused(microsoft):
    now = [1000.0]
    auth = BotFrameworkAuth(microsoft.app_id, microsoft.openid_metadata_url, clock=lambda: now[0])
    await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    assert auth.fetches == 1
    now[0] += MIN_REFRESH_SECONDS + 1
    fetched_before = microsoft.key_requests
    with pytest.raises(Unauthorized, match="unknown signing key"):
        await auth.authenticate(bearer(microsoft.mint(kid="rotated-away")), microsoft.activity("hi"))
    assert auth.fetches == 2 and microsoft.key_requests == fetched_before + 1
    # More unknown key ids straight after: no more fetches (no hammering Microsoft).
    for attempt in range(5):
        with pytest.raises(Unauthorized):
            await auth.authenticate(
                bearer(microsoft.mint(kid=f"made-up-{attempt}")), microsoft.activity("hi")
            )
    assert auth.fetches == 2 and microsoft.key_requests == fetched_before + 1


async def test_a_rotated_key_is_picked_up_and_keys_are_kept_a_day(microsoft):
    now = [1000.0]
    auth = BotFrameworkAuth(microsoft.app_id, microsoft.openid_metadata_url, clock=lambda: now[0])
    await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    now[0] += 3600
    await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    assert auth.fetches == 1  # cached
    rotated = microsoft.add_key()
    await auth.authenticate(bearer(microsoft.mint(kid=rotated)), microsoft.activity("hi"))
    assert auth.fetches == 2
    now[0] += 24 * 3600 + 1
    await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    assert auth.fetches == 3  # a day old: fetched again


async def test_activities_that_arrive_while_the_keys_are_fetched_wait_for_them(microsoft):
    # The first burst after a start: every activity is checked against the keys the
    # first one is fetching, none refused for want of keys, and Microsoft asked once.
    auth = BotFrameworkAuth(microsoft.app_id, microsoft.openid_metadata_url)
    checks = [auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi")) for _ in range(8)]
    claims = await asyncio.gather(*checks, return_exceptions=True)
    assert [c for c in claims if isinstance(c, BaseException)] == []
    assert auth.fetches == 1


async def test_unreachable_metadata_refuses_quickly(microsoft):
    auth = BotFrameworkAuth(microsoft.app_id, f"http://127.0.0.1:{free_port()}/metadata", timeout=2)
    started = time.monotonic()
    with pytest.raises(Unauthorized, match="no signing keys"):
        await auth.authenticate(bearer(microsoft.mint()), microsoft.activity("hi"))
    assert time.monotonic() - started < 3


# -- the webhook, without a server ---------------------------------------------------------


class FakeRequest:
    """What the webhook reads of a Sanic request."""

    def __init__(self, body: Any, authorization: Optional[str] = None) -> None:
        self.headers = {"Authorization": authorization} if authorization is not None else {}
        self._body = body

    @property
    def body(self) -> bytes:
        return self._body if isinstance(self._body, bytes) else json.dumps(self._body).encode()


class Webhook:
    """A channel's webhook handler, with the messages it gave Rasa; each is answered
    with "echo: <text>" through the channel's output, as Rasa would."""

    def __init__(self, channel: TeamsInput) -> None:
        self.channel = channel
        self.received: List[Any] = []
        blueprint = channel.blueprint(self.on_new_message)
        self.handler = next(r.handler for r in blueprint._future_routes if r.uri == "/webhook")

    async def on_new_message(self, message: Any) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": f"echo: {message.text}"})

    async def post(self, body: Any, authorization: Optional[str]) -> Any:
        answer = await self.handler(FakeRequest(body, authorization))
        await self.channel.after_answer.finished()
        return answer


def channel_for(ms: BotFrameworkStandIn, **changes: str) -> TeamsInput:
    settings = {
        "app_id": ms.app_id,
        "app_password": ms.app_password,
        "tenant_id": ms.tenant_id,
        "openid_metadata_url": ms.openid_metadata_url,
        "token_url": ms.token_url,
        **changes,
    }
    channel = TeamsInput.from_credentials(settings)
    assert isinstance(channel, TeamsInput)
    return channel


@pytest.fixture
async def webhook(microsoft):
    hook = Webhook(channel_for(microsoft))
    yield hook
    await hook.channel.connector.close()


async def test_a_message_goes_to_rasa_without_mentions_and_is_answered(microsoft, webhook, caplog):
    activity = microsoft.activity("<at>Careers adviser</at>  am I eligible for the STP?  ")
    answer = await webhook.post(activity, bearer(microsoft.mint()))
    assert answer.status == 200
    [message] = webhook.received
    assert message.text == "am I eligible for the STP?"
    assert message.input_channel == "teams"
    assert message.metadata is None
    assert message.sender_id.startswith(f"teams:{microsoft.tenant_id}:")
    [reply] = microsoft.replies_to(activity["id"], timeout=10)
    assert reply["text"] == "echo: am I eligible for the STP?"
    assert reply["conversation"]["id"] == activity["conversation"]["id"]
    assert reply["recipient"]["id"] == activity["from"]["id"]
    assert reply["from"]["id"] == activity["recipient"]["id"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<at>Careers adviser</at> hello", "hello"),
        ('hello <at id="0">Careers</at>', "hello"),
        ("<AT>Bot</AT>\n\n what GCSEs do I need?\n", "what GCSEs do I need?"),
        ("<at>Bot</at>", ""),
        ("no mention at all", "no mention at all"),
    ],
)
def test_mentions_are_taken_out(text, expected):
    assert message_text({"type": "message", "text": text}) == expected


def test_a_clicked_button_sends_its_payload():
    assert message_text({"text": "/affirm"}) == "/affirm"  # a hero card's messageBack
    assert message_text({"text": "", "value": {"payload": "/deny"}}) == "/deny"
    submitted = {"msteams": {"type": "messageBack", "text": '/inform{"x": "y"}'}}
    assert message_text({"value": submitted}) == '/inform{"x": "y"}'


async def test_other_activity_types_are_acknowledged_and_ignored(microsoft, webhook):
    update = microsoft.activity(activity_type="conversationUpdate")
    assert (await webhook.post(update, bearer(microsoft.mint()))).status == 200
    typing = microsoft.activity(activity_type="typing")
    assert (await webhook.post(typing, bearer(microsoft.mint()))).status == 200
    assert webhook.received == []


async def test_a_repeated_activity_id_is_handled_once(microsoft, webhook):
    activity = microsoft.activity("hello", conversation_id="a:repeats")
    for _ in range(3):
        assert (await webhook.post(activity, bearer(microsoft.mint()))).status == 200
    assert len(webhook.received) == 1
    assert len(microsoft.posted("a:repeats")) == 1


async def test_a_single_tenant_app_refuses_another_tenant(microsoft, webhook, caplog):
    token = microsoft.mint()
    caplog.set_level(logging.INFO, logger="channels.teams")
    for activity in (
        microsoft.activity("secret words", tenant_id=OTHER_TENANT),
        microsoft.activity("secret words", tenant_id=""),
    ):
        answer = await webhook.post(activity, bearer(token))
        assert answer.status == 401
        assert json.loads(answer.body)["error"]
    assert webhook.received == []
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and all(r.levelno == logging.WARNING for r in refusals)
    assert token not in caplog.text and "secret words" not in caplog.text


async def test_only_teams_activities_are_taken(microsoft, webhook):
    """Web Chat and Direct Line carry tokens Microsoft signed too, and their clients
    can name any tenant: only Teams' activities are taken."""
    for channel in ("webchat", "directline", "emulator", ""):
        activity = microsoft.activity("hello", channel_id=channel, conversation_id=f"a:{channel}")
        token = microsoft.mint(kid=microsoft.add_key(endorsements=[channel, "msteams"]))
        answer = await webhook.post(activity, bearer(token))
        assert answer.status == 401, channel
    assert webhook.received == []


async def test_a_multi_tenant_app_takes_any_tenant(microsoft):
    hook = Webhook(channel_for(microsoft, tenant_id="botframework.com"))
    try:
        activity = microsoft.activity("hello", tenant_id=OTHER_TENANT, conversation_id="a:elsewhere")
        assert (await hook.post(activity, bearer(microsoft.mint()))).status == 200
        assert hook.received[0].sender_id.startswith(f"teams:{OTHER_TENANT}:")
    finally:
        await hook.channel.connector.close()


async def test_bad_tokens_and_bodies_are_refused_before_anything_is_processed(
    microsoft, webhook, stranger_key
):
    activity = microsoft.activity("hello")
    assert (await webhook.post(activity, None)).status == 401
    assert (await webhook.post(activity, bearer(microsoft.mint(alg="none")))).status == 401
    assert (await webhook.post(activity, bearer(microsoft.mint(key=stranger_key)))).status == 401
    # A body that is not an activity names no service URL for the token to match: 401.
    assert (await webhook.post(b"not json", bearer(microsoft.mint()))).status == 401
    assert (await webhook.post(["a", "list"], bearer(microsoft.mint()))).status == 401
    no_sender = {**microsoft.activity("hello"), "from": None}
    assert (await webhook.post(no_sender, bearer(microsoft.mint()))).status == 400
    assert webhook.received == []


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        {},
        {"app_id": "", "app_password": "", "tenant_id": "", "openid_metadata_url": "", "token_url": ""},
        {"app_id": "00000000-0000-4000-8000-000000000001", "app_password": ""},
        {"app_id": "", "app_password": "a secret"},
        # No tenant: a forgotten setting, not a multi-tenant app (that is botframework.com).
        {"app_id": "00000000-0000-4000-8000-000000000001", "app_password": "a secret", "tenant_id": ""},
    ],
)
async def test_a_channel_not_set_up_answers_503_and_processes_nothing(microsoft, credentials):
    channel = TeamsInput.from_credentials(credentials)
    assert isinstance(channel, TeamsInput) and not channel.configured
    hook = Webhook(channel)
    answer = await hook.post(microsoft.activity("hello"), bearer(microsoft.mint()))
    assert answer.status == 503
    assert json.loads(answer.body) == {"error": NOT_CONFIGURED}
    assert "not set up" in NOT_CONFIGURED
    assert hook.received == []


def test_settings_and_their_defaults():
    multi = TeamsInput.from_credentials(
        {"app_id": "a", "app_password": "p", "tenant_id": "botframework.com", "token_url": ""}
    )
    assert isinstance(multi, TeamsInput) and multi.multi_tenant and multi.configured
    assert multi.openid_metadata_url == "https://login.botframework.com/v1/.well-known/openidconfiguration"
    assert multi.token_url == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    single = TeamsInput.from_credentials({"app_id": "a", "app_password": "p", "tenant_id": OTHER_TENANT})
    assert isinstance(single, TeamsInput)
    assert single.token_url == f"https://login.microsoftonline.com/{OTHER_TENANT}/oauth2/v2.0/token"
    assert not single.multi_tenant
    assert TeamsInput.name() == "teams"


async def test_messages_are_cut_and_rates_limited(microsoft, monkeypatch):
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "0")
    monkeypatch.setenv("MESSAGE_BURST", "1")
    hook = Webhook(channel_for(microsoft))
    try:
        conversation = "a:busy"
        long = microsoft.activity("x" * 50_000, conversation_id=conversation)
        assert (await hook.post(long, bearer(microsoft.mint()))).status == 200
        [message] = hook.received
        assert len(message.text) == limits.MAX_MESSAGE_CHARACTERS
        assert message.metadata == {limits.CUT_FROM_CHARACTERS: 50_000}
        # Over the limit: nothing to Rasa, and one "slow down" a minute at most.
        for text in ("again", "and again"):
            over = microsoft.activity(text, conversation_id=conversation)
            assert (await hook.post(over, bearer(microsoft.mint()))).status == 200
        assert len(hook.received) == 1
        texts = [a.get("text") for a in microsoft.posted(conversation)]
        assert texts.count(limits.TOO_MANY_MESSAGES) == 1
    finally:
        await hook.channel.connector.close()


def test_conversation_ids_are_short_per_person_and_in_the_teams_namespace(microsoft):
    first = microsoft.activity("hi", conversation_id="19:channel@thread.tacv2", user_id="29:one")
    second = microsoft.activity("hi", conversation_id="19:channel@thread.tacv2", user_id="29:two")
    ids = {conversation_id(first, CONVERSATION_SECRET), conversation_id(second, CONVERSATION_SECRET)}
    assert len(ids) == 2
    # The Teams ids are not in it, and without the secret nobody can work it out.
    assert not any("29:one" in i or "channel@thread" in i for i in ids)
    assert conversation_id(first, b"another-secret-entirely") != conversation_id(first, CONVERSATION_SECRET)
    assert all(i.startswith(f"{ownership.TEAMS}:{microsoft.tenant_id}:") and len(i) < 120 for i in ids)
    huge = microsoft.activity("hi", conversation_id="c" * 100_000, tenant_id="not a tenant: " + "x" * 1000)
    assert (
        conversation_id(huge, CONVERSATION_SECRET).startswith("teams:t")
        and len(conversation_id(huge, CONVERSATION_SECRET)) < 120
    )
    assert conversation_id(first, CONVERSATION_SECRET) == conversation_id(
        microsoft.activity("again", **_same_person(first)), CONVERSATION_SECRET
    )


def _same_person(activity: Dict[str, Any]) -> Dict[str, Any]:
    return {"conversation_id": activity["conversation"]["id"], "user_id": activity["from"]["id"]}


# -- replies -----------------------------------------------------------------------------

ASSESSMENT = {
    "verdict": "eligible",
    "verdict_label": "Eligible",
    "verdict_mark": "✓",
    "verdict_tone": "good",
    "programme": "STP",
    "programme_name": "Scientist Training Programme (STP)",
    "reasons": ["You have a 2:1.", "Physics is a relevant science."],
    "next_steps": ["Read the NSHCS guidance.", "Apply when recruitment opens."],
    "sources": ["https://nshcs.hee.nhs.uk/programmes/stp/", "https://www.healthcareers.nhs.uk/stp"],
    "rules": ["stp_route_1"],
}
VERDICT_TEXT = (
    "From what you've told me, you meet the academic entry requirements for the STP.\n\n"
    "Why:\n- You have a 2:1.\n- Physics is a relevant science.\n\n"
    "What next:\n- Read the NSHCS guidance.\n- Apply when recruitment opens.\n\n"
    "Sources:\nhttps://nshcs.hee.nhs.uk/programmes/stp/\nhttps://www.healthcareers.nhs.uk/stp"
)


def test_text_becomes_a_markdown_message():
    assert teams_message({"text": "Hello **there**\n\n- one", "timestamp": 1}) == {
        "type": "message",
        "textFormat": "markdown",
        "text": "Hello **there**\n\n- one",
    }
    assert teams_message({"text": "", "custom": {"something": "else"}}) is None


def test_buttons_become_message_back_actions():
    activity = teams_message(
        {"text": "Which programme?", "buttons": [{"title": "STP", "payload": '/inform{"programme": "STP"}'}]}
    )
    assert activity is not None
    assert activity["text"] == "Which programme?"
    [card] = activity["attachments"]
    assert card["contentType"] == HERO_CARD
    assert card["content"]["buttons"] == [
        {"type": "messageBack", "title": "STP", "displayText": "STP", "text": '/inform{"programme": "STP"}'}
    ]
    assert buttons_of(activity) == [{"title": "STP", "payload": '/inform{"programme": "STP"}'}]


def _texts(element: Any) -> List[str]:
    if isinstance(element, dict):
        found = [element["text"]] if element.get("type") == "TextBlock" else []
        return found + [t for v in element.values() for t in _texts(v)]
    if isinstance(element, list):
        return [t for item in element for t in _texts(item)]
    return []


def test_a_verdict_becomes_an_adaptive_card():
    activity = teams_message({"text": VERDICT_TEXT, "custom": {"assessment": ASSESSMENT}})
    assert activity is not None
    json.dumps(activity)  # all of it can be sent
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(n) for n in card["version"].split(".")) <= (1, 4)
    body = card["body"]
    assert body[0]["text"] == "Eligibility check: Scientist Training Programme (STP)"
    assert body[1]["text"] == "✓ Eligible"
    assert body[1]["weight"] == "Bolder" and body[1]["size"] == "Large" and body[1]["color"] == "Good"
    assert (
        body[2]["text"] == "From what you've told me, you meet the academic entry requirements for the STP."
    )
    texts = _texts(body)
    assert texts.index("Why") < texts.index("• You have a 2:1.") < texts.index("What next")
    assert texts.index("What next") < texts.index("• Apply when recruitment opens.") < texts.index("Sources")
    # Each source a link shown by its card's title (channels/card.py).
    assert "[nshcs.hee.nhs.uk: stp](https://nshcs.hee.nhs.uk/programmes/stp/)" in texts
    assert "[healthcareers.nhs.uk: stp](https://www.healthcareers.nhs.uk/stp)" in texts
    assert card["fallbackText"] == VERDICT_TEXT
    assert activity["summary"] == VERDICT_TEXT
    # What the verdict was, for tools; not the reasons, which repeat what the person said.
    assert activity["channelData"] == {
        "careersAssessment": {key: ASSESSMENT[key] for key in ("verdict", "programme", "rules")}
    }
    assert assessment_of(activity) == activity["channelData"]["careersAssessment"]
    assert "Physics is a relevant science" in text_of(activity)
    [message] = rasa_messages([activity])
    assert message == {
        "text": VERDICT_TEXT,
        "custom": {"assessment": {"verdict": "eligible", "programme": "STP", "rules": ["stp_route_1"]}},
    }


def test_a_verdict_card_is_drawn_from_whatever_the_payload_holds():
    activity = teams_message(
        {
            "text": "Not enough.",
            "custom": {
                "assessment": {"verdict": "not_eligible", "verdict_tone": "bad", "sources": ["javascript:x"]}
            },
            "buttons": [{"title": "Yes", "payload": "/affirm"}],
        }
    )
    assert activity is not None
    card = activity["attachments"][0]["content"]
    # A payload without a label shows its verdict name in words, as on every channel.
    assert [b["text"] for b in card["body"]] == ["Eligibility check", "Not eligible", "Not enough."]
    assert card["body"][1]["color"] == "Attention"
    assert buttons_of(activity) == [{"title": "Yes", "payload": "/affirm"}]


async def test_replies_use_one_cached_token_and_a_failed_post_is_only_logged(microsoft, caplog):
    connector = BotConnector(microsoft.app_id, microsoft.app_password, microsoft.token_url)
    activity = microsoft.activity("hi", conversation_id="19:meeting_x@thread.v2;messageid=17")
    output = TeamsOutput(connector, activity)
    asked_before = len(microsoft.token_requests)
    try:
        await output.send_response("x", {"text": "one"})
        await output.send_response("x", {"text": "two", "buttons": [{"title": "Yes", "payload": "/affirm"}]})
        assert [text_of(a) for a in microsoft.posted("19:meeting_x@thread.v2;messageid=17")] == ["one", "two"]
        forms = microsoft.token_requests[asked_before:]
        assert len(forms) == 1
        assert forms[0]["grant_type"] == "client_credentials"
        assert forms[0]["client_id"] == microsoft.app_id
        assert forms[0]["scope"] == "https://api.botframework.com/.default"
        microsoft.connector_failure = 503
        caplog.set_level(logging.WARNING, logger="channels.teams")
        await output.send_response("x", {"text": "lost words"})  # no exception
        assert "a reply was lost" in caplog.text and "lost words" not in caplog.text
    finally:
        microsoft.connector_failure = None
        await connector.close()


# -- the Teams app package ---------------------------------------------------------------


def _png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def _pixels(data: bytes) -> List[bytes]:
    """The RGBA pixels of an unfiltered PNG, as make_icons.py writes them."""
    width, height, _, _ = _png_size(data)
    idat, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    assert all(raw[row * stride] == 0 for row in range(height))
    return [
        raw[row * stride + 1 + 4 * x : row * stride + 5 + 4 * x]
        for row in range(height)
        for x in range(width)
    ]


def test_the_app_package_is_a_valid_zip_with_a_filled_manifest(tmp_path):
    env = {
        "TEAMS_APP_ID": "1A2B3C4D-0000-4000-8000-123456789ABC",
        "BOT_DOMAIN": "https://careers-bot.example.nhs.uk/",
    }
    written = teams_package.build(tmp_path / "teams-app.zip", env)
    with zipfile.ZipFile(written) as package:
        assert package.testzip() is None
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        text = package.read("manifest.json").decode()
        colour, outline = package.read("color.png"), package.read("outline.png")
    assert "{{" not in text and "}}" not in text
    manifest = json.loads(text)
    assert float(manifest["manifestVersion"]) >= 1.16
    assert manifest["id"] == manifest["bots"][0]["botId"] == "1a2b3c4d-0000-4000-8000-123456789abc"
    assert manifest["validDomains"] == ["careers-bot.example.nhs.uk"]
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team"}
    assert "NHS clinical engineering careers adviser" in manifest["name"]["full"]
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert all(len(c["title"]) <= 32 for c in manifest["bots"][0]["commandLists"][0]["commands"])
    assert all(
        manifest["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )
    assert _png_size(colour) == (192, 192, 8, 6)
    assert _png_size(outline) == (32, 32, 8, 6)
    outline_pixels = _pixels(outline)
    assert all(p[:3] == b"\xff\xff\xff" or p[3] == 0 for p in outline_pixels)  # white on transparent
    assert any(p[3] == 0 for p in outline_pixels) and any(p[3] == 255 for p in outline_pixels)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TEAMS_APP_ID": "not-a-guid", "BOT_DOMAIN": "careers-bot.example.nhs.uk"},
        {"TEAMS_APP_ID": "1a2b3c4d-0000-4000-8000-123456789abc", "BOT_DOMAIN": "careers bot"},
        {
            "TEAMS_APP_ID": "1a2b3c4d-0000-4000-8000-123456789abc",
            "BOT_DOMAIN": "careers-bot.example.nhs.uk",
            "TEAMS_PRIVACY_URL": "http://plain.example/privacy",
        },
    ],
)
def test_the_app_package_needs_good_settings(tmp_path, env):
    with pytest.raises(teams_package.PackageError):
        teams_package.build(tmp_path / "teams-app.zip", env)
    assert not (tmp_path / "teams-app.zip").exists()


def test_the_icons_in_git_are_the_ones_make_icons_draws():
    folder = ROOT / "deploy" / "teams"
    spec = importlib.util.spec_from_file_location("make_icons", folder / "make_icons.py")
    assert spec is not None and spec.loader is not None
    make_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_icons)
    assert (folder / "color.png").read_bytes() == make_icons.colour_icon()
    assert (folder / "outline.png").read_bytes() == make_icons.outline_icon()


# -- the real assistant, through Teams -----------------------------------------------------


@pytest.fixture(scope="module")
def teams(microsoft, tmp_path_factory):
    """The action server and Rasa, with the Teams channel pointed at the stand-in:
    (the webhook's URL, the running assistant)."""
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    with running_assistant(MODEL, tmp_path_factory.mktemp("teams"), env=microsoft.env()) as running:
        yield f"{running.url}/webhooks/teams/webhook", running


def reply_of(activities: List[Dict[str, Any]]) -> Reply:
    return Reply.from_messages(rasa_messages(activities))


def offers(title: str) -> Callable[[List[Dict[str, Any]]], bool]:
    """Whether a turn's replies so far offer the button a script clicks next."""
    return lambda replies: find_button(reply_of(replies), title)[0] is not None


def meets(turn: Turn) -> Callable[[List[Dict[str, Any]]], bool]:
    """Whether a turn's replies so far meet all the script expects of them."""
    return lambda replies: all(check.passed for check in check_reply(turn, reply_of(replies)))


@pytest.mark.servers
def test_a_signed_message_is_acknowledged_at_once_and_answered(microsoft, teams):
    webhook, _ = teams
    hello = microsoft.activity("hi", conversation_id="a:hello")
    started = time.monotonic()
    status, body = microsoft.deliver(webhook, hello)
    assert status == 200 and body == {}
    assert time.monotonic() - started < 5
    replies = microsoft.replies_to(hello["id"], timeout=30)
    assert text_of(replies[0])
    assert replies[0]["conversation"]["id"] == "a:hello"
    assert microsoft.refused_posts == 0


@pytest.mark.servers
def test_refused_tokens_get_401_and_no_reply(microsoft, teams, stranger_key):
    webhook, running = teams
    conversation = "a:attacked"
    tokens = _refused_tokens(microsoft, stranger_key)
    cases = {
        name: tokens[name]
        for name in (
            "signed by another key with the same kid",
            "alg none",
            "HS256 with the public key as the secret",
            "wrong issuer",
            "wrong audience",
            "expired beyond the skew",
            "unknown kid",
            "another service URL",
        )
    }
    for name, token in cases.items():
        status, body = microsoft.deliver(
            webhook, microsoft.activity(f"attack: {name}", conversation_id=conversation), token
        )
        assert status == 401, name
        assert "error" in body
    status, _ = microsoft.deliver(
        webhook, microsoft.activity("hi", conversation_id=conversation), authorization=""
    )
    assert status == 401
    elsewhere = microsoft.activity("hi", conversation_id=conversation, tenant_id=OTHER_TENANT)
    assert microsoft.deliver(webhook, elsewhere)[0] == 401
    # The good path works in the same conversation, and only its message is answered.
    good = microsoft.activity("hi", conversation_id=conversation)
    assert microsoft.deliver(webhook, good)[0] == 200
    microsoft.replies_to(good["id"], timeout=30)
    assert {a["replyToId"] for a in microsoft.posted(conversation)} == {good["id"]}
    log = running.rasa.log.read_text(errors="replace")
    assert "refused a request (401)" in log
    assert not any(token in log for token in cases.values())
    assert "attack:" not in log


@pytest.mark.servers
def test_refused_requests_add_a_line_a_minute_to_the_log_not_one_each(microsoft, teams):
    """Issue 24: each refused request wrote a warning, so anyone could grow the log."""
    webhook, running = teams
    before = running.rasa.log.read_text(errors="replace").count("refused a request (401)")
    for n in range(100):
        activity = microsoft.activity("hi", conversation_id=f"a:flood{n}")
        assert microsoft.deliver(webhook, activity, authorization="")[0] == 401
    after = running.rasa.log.read_text(errors="replace").count("refused a request (401)")
    assert after - before <= 1


@pytest.mark.servers
def test_a_repeated_activity_is_answered_once(microsoft, teams):
    webhook, _ = teams

    def turn_then_thanks(conversation: str, repeats: int) -> int:
        hello = microsoft.activity("hi", conversation_id=conversation)
        for _ in range(repeats):
            assert microsoft.deliver(webhook, hello)[0] == 200
        thanks = microsoft.activity("thanks", conversation_id=conversation)
        assert microsoft.deliver(webhook, thanks)[0] == 200
        # Turns of one conversation run in order: once "thanks" is answered, "hi" is done.
        microsoft.replies_to(thanks["id"], timeout=30)
        return len([a for a in microsoft.posted(conversation) if a.get("replyToId") == hello["id"]])

    once = turn_then_thanks("a:once", 1)
    assert once >= 1
    assert turn_then_thanks("a:retried", 3) == once


@pytest.mark.servers
def test_an_eligibility_check_through_teams_ends_with_the_verdict_card(microsoft, teams):
    webhook, _ = teams
    [conversation] = [
        c
        for c in load_scripts([ROOT / "tests" / "conversations" / "eligibility-stp.yml"])
        if c.name == "A 2:1 in physics, clicking buttons"
    ]
    teams_conversation = "a:eligibility"
    previous: Optional[str] = None
    replies: List[Dict[str, Any]] = []
    for turn in conversation.turns:
        text = turn.user or ""
        if turn.click is not None:
            assert previous is not None
            offered = microsoft.replies_to(previous, until=offers(turn.click))
            button, _ = find_button(reply_of(offered), turn.click)
            assert button is not None
            text = button["payload"]  # a messageBack click sends the payload as the text
        activity = microsoft.activity(text, conversation_id=teams_conversation)
        assert microsoft.deliver(webhook, activity)[0] == 200
        try:
            replies = microsoft.replies_to(activity["id"], until=meets(turn))
        except TimeoutError:
            found = [a for a in microsoft.posted(teams_conversation) if a.get("replyToId") == activity["id"]]
            failed = [c.description for c in check_reply(turn, reply_of(found)) if not c.passed]
            pytest.fail(f"{turn.said()}: {failed}; the assistant said {text_of_all(found)!r}")
        previous = activity["id"]
    [verdict] = [a for a in replies if assessment_of(a)]
    assessment = assessment_of(verdict)
    assert assessment is not None
    assert assessment["verdict"] == "eligible" and assessment["programme"] == "STP"
    card = verdict["attachments"][0]
    assert card["contentType"] == ADAPTIVE_CARD
    texts = _texts(card["content"]["body"])
    assert texts[0] == "Eligibility check: NHS Scientist Training Programme (STP)"
    assert texts[1] == f"{VERDICT_MARKS['eligible']} {VERDICT_LABELS['eligible']}"
    assert "Why" in texts and "What next" in texts and "Sources" in texts
    # The card holds what the verdict's text says: each reason, each source as a link.
    full = verdict["summary"]
    reasons = [t[2:] for t in texts[texts.index("Why") + 1 : texts.index("What next")]]
    assert reasons and all(f"- {reason}" in full for reason in reasons)
    sources = [line for line in full.split("Sources:", 1)[1].split() if line.startswith("https://")]
    assert sources and all(any(f"]({url})" in t for t in texts) for url in sources)


def text_of_all(activities: List[Dict[str, Any]]) -> str:
    return "\n\n".join(text_of(a) for a in activities)
