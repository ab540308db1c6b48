"""Issues 13 and 24 over the real servers: conversations owned by their token, hostile
input bounded, floods limited, and an apology when the action server fails; and what
the attack test of issue 24 found (a sender that stopped the server, sockets outside
the cap, deletion in people's own words, limits per channel, deleted text left on
disk, log lines without limit, replies lost with a connection).

One Rasa and action server for the module, started as `make run` starts them, with
a known conversation secret (to mint expired tokens), lower limits (to reach them
quickly) and a short action timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest
import socketio
import websockets

from channels import ownership
from nlp.message_limits import CUT_FROM_CHARACTERS, MAX_MESSAGE_CHARACTERS
from tests.harness.serverctl import ROOT, post, running_assistant

MODEL = ROOT / "models" / "careers.tar.gz"
SECRET = "a-conversation-secret-for-these-tests"
ACTION_TIMEOUT_S = 3.0
SETTINGS = {
    ownership.CONVERSATION_SECRET: SECRET,
    "ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT_S),
    "MESSAGES_PER_MINUTE": "30",
    "MESSAGE_BURST": "8",
    "NEW_CONVERSATIONS_PER_MINUTE": "600",
    "NEW_CONVERSATION_BURST": "30",
    "SOCKETS_PER_CLIENT": "5",
    "SOCKET_JOIN_SECONDS": "2",
    # Slack and Teams not set up on this server (whatever this shell has).
    "SLACK_BOT_TOKEN": "",
    "SLACK_SIGNING_SECRET": "",
    "TEAMS_APP_ID": "",
    "TEAMS_APP_PASSWORD": "",
}

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    with running_assistant(MODEL, tmp_path_factory.mktemp("hostile"), env=SETTINGS) as running:
        yield running


def database(assistant) -> sqlite3.Connection:
    return sqlite3.connect(assistant.rasa.log.parent / "conversations.db")


def events_of(assistant, sender: str) -> List[Tuple[str, Dict[str, Any]]]:
    with database(assistant) as db:
        rows = db.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [(kind, json.loads(data)) for kind, data in rows]


def new_token(assistant) -> str:
    status, reply = post(assistant.url, None, raw=b"", token="", path="/webhooks/rest/conversations")
    assert status == 201, reply
    return reply["token"]


def web(assistant, token: str, message: Any, raw: Optional[bytes] = None) -> Tuple[int, Any]:
    """A browser's REST call: the token as sender, no server token."""
    return post(assistant.url, {"sender": token, "message": message}, raw=raw, token="")


def text_of(replies: Any) -> str:
    return "\n".join(r.get("text", "") for r in replies if isinstance(r, dict))


def conversation(token: str) -> str:
    found = ownership.conversation_of(token, SECRET.encode())
    assert found
    return found


# --- owned conversations -------------------------------------------------------


def test_a_browser_needs_a_token_the_server_issued(assistant):
    token = new_token(assistant)
    status, replies = web(assistant, token, "what skills do I need?")
    assert status == 200 and "attention to detail" in text_of(replies)
    assert events_of(assistant, conversation(token)), "filed under web:<id>"

    local_id = conversation(token).split(":", 1)[1]
    expired = ownership.issue_token(SECRET.encode(), now=time.time() - ownership.TOKEN_MAX_AGE_SECONDS - 60)
    foreign = ownership.issue_token(b"another-servers-secret-0123456789")
    for sender in ["someone", local_id, conversation(token), expired, foreign, token[:-2] + "xx"]:
        status, reply = web(assistant, sender, "why?")
        assert status == 401, (sender, reply)
        assert "token" in reply["error"]
    assert not events_of(assistant, "someone") and not events_of(assistant, local_id)


def test_another_clients_id_gets_no_replies_history_or_effect(assistant):
    owner = new_token(assistant)
    status, replies = web(assistant, owner, "I have a 2:1 in physics. Can I apply for the STP?")
    assert status == 200 and "physics" in text_of(replies)
    before = events_of(assistant, conversation(owner))

    async def intruder() -> Tuple[str, List[Dict[str, Any]]]:
        # Over socket.io, asking for the owner's conversation by its id: a new
        # conversation of its own, and nothing of the owner's.
        async with Chat(assistant.url) as chat:
            token = await chat.session(conversation(owner))
            replies = await chat.say("why?")
            return token, replies

    token, replies = asyncio.run(intruder())
    assert conversation(token) != conversation(owner)
    assert "physics" not in text_of(replies) and "2:1" not in text_of(replies)
    assert events_of(assistant, conversation(owner)) == before, "the owner's conversation is untouched"


def test_the_owner_gets_the_same_conversation_over_socketio_and_rest(assistant):
    async def chat_over_socketio() -> str:
        async with Chat(assistant.url) as chat:
            token = await chat.session()
            replies = await chat.say("I have a 2:1 in physics. Can I apply for the STP?")
            assert "physics" in text_of(replies)
            return token

    token = asyncio.run(chat_over_socketio())
    status, replies = web(assistant, token, "why?")
    assert status == 200 and "physics" in text_of(replies), "the same conversation over REST"


def test_a_rest_server_cannot_reach_another_channels_conversations(assistant):
    for sender in ["slack:U0123ABCD", "teams:29:1abc", "web:abcdefghijklmnopqrstuv"]:
        status, replies = post(assistant.url, {"sender": sender, "message": "hello"})
        assert status == 200 and replies
        assert events_of(assistant, f"rest:{sender}"), "filed under rest:"
        assert not events_of(assistant, sender), f"nothing reached {sender}"
    status, reply = post(assistant.url, {"sender": "slack:U0123ABCD", "message": "hi"}, token="wrong" * 8)
    assert status == 401


def test_typed_intents_and_restart_change_nothing(assistant):
    token = new_token(assistant)
    web(assistant, token, "check my eligibility for the STP")
    status, replies = web(assistant, token, "/restart")
    assert status == 200 and "What class is your degree?" in text_of(replies)
    status, replies = web(assistant, token, "2:1")
    assert "subject" in text_of(replies), "the check carried on"
    status, replies = web(assistant, token, "/stop")
    assert status == 200 and "subject" in text_of(replies) and "stopped" not in text_of(replies)
    for typed in ["/session_start", '/inform{"degree_class": "upper_second", "degree_subject": "physics"}']:
        assert web(assistant, token, typed)[0] == 200
    kinds = [kind for kind, _ in events_of(assistant, conversation(token))]
    assert "restart" not in kinds and kinds.count("session_started") == 1
    said = [data for kind, data in events_of(assistant, conversation(token)) if kind == "user"]
    typed = said[1:2] + said[3:]
    assert [d["parse_data"]["intent"]["name"] for d in typed] == ["nlu_fallback"] * 4
    assert all(d["parse_data"]["entities"] == [] for d in typed), "no entities from the typed JSON"


# --- hostile input ---------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b'{"sender": "x", "message": ' + b"[" * depth + b"]" * depth + b"}"


HOSTILE_BODIES = {
    "empty body": b"",
    "whitespace": b"   ",
    "not json": b"hello",
    "invalid utf-8": b'{"sender": "x", "message": "\xff\xfe\xfa"}',
    "deep json": _deep(200_000),
    "wide json": json.dumps({f"k{n}": n for n in range(50_000)}).encode(),
    "list": b"[1, 2, 3]",
    "message a number": b'{"sender": "x", "message": 5}',
    "message an object": b'{"sender": "x", "message": {"text": "hi"}}',
    "sender a list": b'{"sender": ["x"], "message": "hi"}',
    "metadata a string": b'{"sender": "x", "message": "hi", "metadata": "oops"}',
}


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
@pytest.mark.parametrize("trusted", [False, True], ids=["browser", "server"])
def test_hostile_rest_bodies_get_a_4xx_json_error(assistant, name, trusted):
    status, reply = post(assistant.url, None, raw=HOSTILE_BODIES[name], token=None if trusted else "")
    assert 400 <= status < 500, (name, status, reply)
    assert isinstance(reply, dict) and (reply.get("error") or reply.get("message")), reply
    assert post(assistant.url, {"sender": "still-serving", "message": "hello"})[0] == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_cross_site_form_or_text_post_is_refused(assistant, content_type):
    """What a page elsewhere can make a browser send without a CORS preflight."""
    token = new_token(assistant)
    body = {"sender": token, "message": "Delete my conversation"}
    headers = {"Content-Type": content_type, "Origin": "https://elsewhere.example"}
    status, reply = post(assistant.url, body, token="", headers=headers)
    assert status == 415 and "application/json" in reply["error"], reply
    assert events_of(assistant, conversation(token)) == []


def test_a_10_mb_body_is_refused_before_it_is_read(assistant):
    """Sanic answers 413 from the Content-Length, without reading the body."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(assistant.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    connection.putrequest("POST", "/webhooks/rest/webhook")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(10_000_000))
    connection.endheaders()
    connection.send(b'{"sender": "x", "message": "' + b"a" * 100_000)
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["message"]
    connection.close()
    assert post(assistant.url, {"sender": "still-serving", "message": "hello"})[0] == 200


HOSTILE_MESSAGES = {
    "empty": "",
    "whitespace": " \t\n ",
    "100,000 characters": "engineering " * 8_334,
    "control characters": "what\x00 skills\x1b[31m do\x7f I need\u202e?",
    "lone surrogate": "grade \ud800 four",
    "emoji": "😀" * 3_000,
    "json in text": '{"sender": "x"}' * 100,
}


@pytest.mark.parametrize("name", list(HOSTILE_MESSAGES))
def test_hostile_messages_get_a_sensible_reply_and_are_stored_cut(assistant, name):
    token = new_token(assistant)
    status, replies = web(assistant, token, HOSTILE_MESSAGES[name])
    assert status == 200 and text_of(replies).strip(), replies
    said = [data for kind, data in events_of(assistant, conversation(token)) if kind == "user"]
    assert len(said) == 1
    stored = said[0]["text"]
    assert len(stored) <= MAX_MESSAGE_CHARACTERS
    assert "\x00" not in stored and "\x1b" not in stored
    cut = (said[0].get("metadata") or {}).get(CUT_FROM_CHARACTERS)
    if len(HOSTILE_MESSAGES[name]) > MAX_MESSAGE_CHARACTERS:
        assert cut == len(HOSTILE_MESSAGES[name]), "marked as cut, with the length it had"
    else:
        assert cut is None


def test_client_metadata_is_not_stored(assistant):
    token = new_token(assistant)
    metadata = {f"key{n}": "v" * 50 for n in range(500)}
    status, _ = post(assistant.url, {"sender": token, "message": "hello", "metadata": metadata}, token="")
    assert status == 200
    said = [data for kind, data in events_of(assistant, conversation(token)) if kind == "user"]
    assert not set(said[0].get("metadata") or {}) & set(metadata), "only Rasa's own (model id)"


def test_hostile_socketio_events_are_ignored_and_the_server_keeps_serving(assistant):
    async def run() -> List[Dict[str, Any]]:
        async with Chat(assistant.url) as chat:
            await chat.session()
            for data in [None, 5, "text", ["a"], {"message": 5}, {"message": {"a": 1}}, {"no": "message"}]:
                await chat.sio.emit("user_uttered", data)
            await chat.sio.emit("session_request", "not an object")
            replies = await chat.say("x" * 100_000)
            assert "too long" in text_of(replies)
            return await chat.say("what skills do I need?")

    assert "attention to detail" in text_of(asyncio.run(run()))


def test_an_oversized_socketio_frame_closes_only_that_socket(assistant):
    async def run() -> List[Dict[str, Any]]:
        async with Chat(assistant.url) as big, Chat(assistant.url) as other:
            await big.session()
            await other.session()
            await big.sio.emit("user_uttered", {"message": "a" * 2_000_000})
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(big.messages.get(), 5)  # refused: no reply
            return await other.say("what skills do I need?")

    assert "attention to detail" in text_of(asyncio.run(run()))


# --- floods ------------------------------------------------------------------------


def test_a_flood_in_one_conversation_gets_429_and_others_are_served(assistant):
    flooder, other = new_token(assistant), new_token(assistant)
    statuses = [web(assistant, flooder, "hello")[0] for _ in range(20)]
    assert statuses.count(429) >= 8 and statuses[0] == 200
    status, reply = web(assistant, flooder, "hello")
    assert status == 429 and "faster than I can answer" in reply["error"]
    status, replies = web(assistant, other, "what skills do I need?")
    assert status == 200 and "attention to detail" in text_of(replies)
    # A trusted server is not limited.
    assert all(post(assistant.url, {"sender": "backend", "message": "hi"})[0] == 200 for _ in range(15))


def test_a_flood_of_new_conversations_gets_429(assistant):
    path = "/webhooks/rest/conversations"
    statuses = [post(assistant.url, None, raw=b"", token="", path=path)[0] for _ in range(80)]
    assert 429 in statuses and statuses[0] == 201
    time.sleep(1.0)  # 600 a minute: ten a second come back
    assert post(assistant.url, None, raw=b"", token="", path="/webhooks/rest/conversations")[0] == 201


def test_sockets_per_client_are_capped(assistant):
    cap = int(SETTINGS["SOCKETS_PER_CLIENT"])

    async def run() -> None:
        opened: List[Chat] = []
        refused = False
        for _ in range(cap + 1):  # sockets of earlier tests may still count for a while
            chat = Chat(assistant.url)
            # The client learns of a refusal at once, but then waits for its pending
            # long-poll (the server's next ping, 25 s) before `connect` raises.
            refusal: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
            chat.sio.on("connect_error", lambda data, f=refusal: f.done() or f.set_result(data))
            connecting = asyncio.ensure_future(chat.__aenter__())
            await asyncio.wait({connecting, refusal}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
            if refusal.done():
                assert "Too many open chats" in str(refusal.result()), refusal.result()
                refused = True
                connecting.cancel()
                break
            await connecting
            await chat.session()  # joined: not closed by the join deadline
            opened.append(chat)
        assert refused and len(opened) <= cap, f"{len(opened)} sockets open from one address"
        for chat in opened:
            await chat.__aexit__()
        await asyncio.sleep(0.5)
        async with Chat(assistant.url) as again:  # closed: room again
            await again.session()
            assert "attention to detail" in text_of(await again.say("what skills do I need?"))

    asyncio.run(run())


# --- failures explained ----------------------------------------------------------------


def test_action_server_down_or_stuck_gets_an_apology_and_the_check_carries_on(assistant):
    token = new_token(assistant)
    web(assistant, token, "check my eligibility for the STP")
    actions = assistant.actions
    assert actions.process is not None
    os.killpg(actions.process.pid, signal.SIGSTOP)  # stuck: takes calls, answers none
    try:
        started = time.monotonic()
        status, replies = web(assistant, token, "2:1")
        waited = time.monotonic() - started
    finally:
        os.killpg(actions.process.pid, signal.SIGCONT)
    assert status == 200 and "Sorry, part of me isn't working" in text_of(replies)
    assert waited < ACTION_TIMEOUT_S + 5, f"apology after {waited:.1f}s"

    actions.stop()  # down: refuses connections
    try:
        status, replies = web(assistant, token, "2:1")
        assert status == 200 and "Sorry, part of me isn't working" in text_of(replies)
    finally:
        actions.start(assistant.actions_url + "/health")
    status, replies = web(assistant, token, "2:1")
    assert "subject" in text_of(replies), "the check carried on where it was"
    status, replies = web(assistant, token, "physics")
    assert "you meet the academic entry requirements" in text_of(replies)


# --- deletion ---------------------------------------------------------------------------


def test_delete_my_conversation_over_rest_removes_exactly_it(assistant):
    mine, other = new_token(assistant), new_token(assistant)
    web(assistant, mine, "I have a 2:1 in physics. Can I apply for the STP?")
    web(assistant, other, "what skills do I need?")
    kept = events_of(assistant, conversation(other))
    status, replies = web(assistant, mine, "Delete my conversation")
    assert status == 200 and "deleted this conversation" in text_of(replies)
    assert any(r.get("custom", {}).get("conversation_deleted") for r in replies)
    assert events_of(assistant, conversation(mine)) == []
    assert events_of(assistant, conversation(other)) == kept
    status, replies = web(assistant, mine, "why?")
    assert status == 200 and "physics" not in text_of(replies), "nothing remembered"

    status, reply = post(
        assistant.url, {"sender": other}, token="", path="/webhooks/rest/conversation", method="DELETE"
    )
    assert status == 200 and reply["deleted"] is True and reply["events"] == len(kept)
    assert events_of(assistant, conversation(other)) == []
    status, reply = post(
        assistant.url, {"sender": "forged"}, token="", path="/webhooks/rest/conversation", method="DELETE"
    )
    assert status == 401


# --- logs -------------------------------------------------------------------------------


def test_logs_hold_no_message_text(assistant):
    """What people type stays out of both servers' logs at INFO: plain text, typed
    `/intent` text Rasa would warn about, and a turn whose action fails."""
    marker = f"zebra{uuid.uuid4().hex[:12]}"
    token = new_token(assistant)
    web(assistant, token, f"I studied {marker} at university, can I apply for the STP?")
    web(assistant, token, f'/inform{{"degree_subject": "{marker}"}}')
    web(assistant, token, f"/{marker}{{not json")
    web(assistant, token, "check my eligibility for the STP")
    assistant.actions.stop()
    try:
        status, replies = web(assistant, token, f"2:1 {marker}")
    finally:
        assistant.actions.start(assistant.actions_url + "/health")
    assert "Sorry, part of me isn't working" in text_of(replies)

    async def over_socketio() -> None:
        async with Chat(assistant.url) as chat:
            await chat.session()
            await chat.say(f"my name is {marker}")

    asyncio.run(over_socketio())
    rasa_log = assistant.rasa.log.read_text(errors="replace")
    assert "The action server failed to run" in rasa_log, "the failure is logged, without the message"
    for log in (rasa_log, assistant.actions.log.read_text(errors="replace")):
        assert marker not in log


# --- a socket.io client -----------------------------------------------------------------


class Chat:
    """A socket.io client of the widget's protocol: `session_request` and
    `session_confirm`, `user_uttered` and `bot_uttered`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.messages: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.confirmed: "asyncio.Queue[str]" = asyncio.Queue()
        self.sio.on("bot_uttered", self.messages.put_nowait)
        self.sio.on("session_confirm", self.confirmed.put_nowait)

    async def __aenter__(self) -> "Chat":
        # Long-polling: the engine.io client's WebSocket needs a newer aiohttp than Rasa pins.
        await self.sio.connect(self.url, transports=["polling"], wait_timeout=10)
        return self

    async def __aexit__(self, *_: Any) -> None:
        # Leave once the close packet is sent, without waiting for the pending
        # long-poll, which the server ends only at its next ping (25 s).
        eio = self.sio.eio
        writing = eio.write_loop_task
        if eio.state == "connected":
            await eio.disconnect(abort=True)
        if writing is not None:
            await asyncio.wait_for(writing, 10)

    async def session(self, token: Optional[str] = None) -> str:
        await self.sio.emit("session_request", {"session_id": token} if token else {})
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def say(
        self, text: str, quiet_s: float = 1.5, limit_s: float = 30, **more: Any
    ) -> List[Dict[str, Any]]:
        await self.sio.emit("user_uttered", {"message": text, **more})
        return await self.replies(quiet_s, limit_s)

    async def replies(self, quiet_s: float = 1.5, limit_s: float = 30) -> List[Dict[str, Any]]:
        replies = [await asyncio.wait_for(self.messages.get(), limit_s)]
        while True:
            try:
                replies.append(await asyncio.wait_for(self.messages.get(), quiet_s))
            except asyncio.TimeoutError:
                return replies


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_platform_not_set_up_refuses_everything(assistant, platform):
    """Without its secrets, a Slack or Teams request is refused with 503, signed or
    not, and nothing is stored."""
    from tests.harness.slack_standin import SlackStandIn

    body = SlackStandIn.message_event("Can I apply for the STP?")
    status, reply = post(
        assistant.url,
        body,
        token="",
        path=f"/webhooks/{platform}/webhook",
        headers=SlackStandIn.signed(json.dumps(body).encode(), "any-secret-at-all-0123456789"),
    )
    assert status == 503 and "not set up" in str(reply)
    with database(assistant) as db:
        stored = db.execute("SELECT count(*) FROM events WHERE sender_id LIKE ?", (platform + ":%",))
        assert stored.fetchone()[0] == 0


# --- issue 24: what an attack test found ------------------------------------------------


def rasa_log(assistant) -> str:
    return assistant.rasa.log.read_text(errors="replace")


@pytest.mark.parametrize(
    "sender",
    ["abc\ud800", "a\x00b", "tab\tand\x1bescape", "x" * 129],
    ids=["surrogate", "nul", "control", "long"],
)
def test_a_sender_no_database_can_store_gets_400_and_the_server_keeps_serving(assistant, sender):
    """A lone surrogate in the sender made SQLite raise a ValueError, which Rasa's
    store turned into "schema not found" and an exit of the whole server."""
    status, reply = post(assistant.url, {"sender": sender, "message": "hi"})
    assert status == 400 and "sender" in reply["error"], (status, reply)
    status, reply = post(
        assistant.url, {"sender": sender}, path="/webhooks/rest/conversation", method="DELETE"
    )
    assert status == 400, (status, reply)
    assert assistant.rasa.process.poll() is None, "Rasa is still running"
    assert post(assistant.url, {"sender": "still-serving", "message": "hello"})[0] == 200


def _engineio_websocket(assistant, source: str) -> Any:
    """A bare engine.io WebSocket, as the attack opened them: no socket.io namespace,
    no conversation; from its own loopback address, so that it has its own cap."""
    url = (
        assistant.url.replace("http://localhost", "ws://127.0.0.1") + "/socket.io/?EIO=4&transport=websocket"
    )
    return websockets.connect(url, local_addr=(source, 0), open_timeout=10, ping_interval=None)


def test_bare_engineio_connections_count_against_the_cap_and_are_closed_unless_they_join(assistant):
    cap = int(SETTINGS["SOCKETS_PER_CLIENT"])
    join_s = float(SETTINGS["SOCKET_JOIN_SECONDS"])
    source = f"127.0.0.{uuid.uuid4().int % 200 + 20}"

    async def run() -> None:
        opened, refused = [], []
        for _ in range(cap + 5):
            try:
                socket = await _engineio_websocket(assistant, source)
            except websockets.exceptions.InvalidStatusCode as error:
                refused.append(error.status_code)
                continue
            assert (await asyncio.wait_for(socket.recv(), 5)).startswith("0{"), "engine.io's open packet"
            opened.append(socket)
        assert len(opened) == cap and refused == [401] * 5, (len(opened), refused)
        # Never joined: the server closes each within the join deadline.
        started = time.monotonic()
        for socket in opened:
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                while True:
                    await asyncio.wait_for(socket.recv(), join_s + 5)
        assert time.monotonic() - started < join_s + 5
        await asyncio.sleep(0.3)
        again = await _engineio_websocket(assistant, source)  # room again
        await again.close()

    tracebacks = rasa_log(assistant).count("Traceback")
    asyncio.run(run())
    assert rasa_log(assistant).count("Traceback") == tracebacks


def test_a_socket_that_joins_in_time_is_kept_open(assistant):
    async def run() -> List[Dict[str, Any]]:
        async with Chat(assistant.url) as chat:
            await chat.session()
            await asyncio.sleep(float(SETTINGS["SOCKET_JOIN_SECONDS"]) + 1)
            return await chat.say("what skills do I need?")

    assert "attention to detail" in text_of(asyncio.run(run()))


def test_deletion_asked_in_own_words_deletes_after_the_confirmation(assistant):
    token = new_token(assistant)
    web(assistant, token, "I have a 2:1 in physics. Can I apply for the STP?")
    for asked in ["please delete my conversation", "I want my data deleted", "erase my details"]:
        status, replies = web(assistant, token, asked)
        said = text_of(replies)
        assert status == 200 and "delete this conversation now" in said, (asked, said)
        assert "cleared" not in said and "999" not in said, (asked, said)
    buttons = {b["title"]: b["payload"] for r in replies for b in r.get("buttons", [])}
    assert set(buttons) == {"Yes, delete it", "No, keep it"}
    status, replies = web(assistant, token, buttons["No, keep it"])
    assert "haven't deleted anything" in text_of(replies) and events_of(assistant, conversation(token))
    web(assistant, token, "remove my conversation")
    status, replies = web(assistant, token, buttons["Yes, delete it"])
    assert "deleted this conversation" in text_of(replies)
    assert events_of(assistant, conversation(token)) == []


def test_one_allowance_per_conversation_whichever_channel(assistant):
    """10 messages over REST, then 10 more at once over socket.io, were all taken."""
    token = new_token(assistant)

    async def run() -> str:
        async with Chat(assistant.url) as chat:
            assert await chat.session(token) == token
            statuses = []
            while 429 not in statuses and len(statuses) < 30:
                statuses.append(web(assistant, token, "hello")[0])
            assert statuses[-1] == 429, statuses
            for _ in range(2):  # at most one can have come back since the 429
                await chat.sio.emit("user_uttered", {"message": "what skills do I need?"})
            return text_of(await chat.replies(quiet_s=2.0))

    assert "faster than I can answer" in asyncio.run(run())


def test_a_deleted_conversation_leaves_no_text_on_disk(assistant):
    marker = f"okapi{uuid.uuid4().hex[:12]}"
    token = new_token(assistant)
    web(assistant, token, f"I studied {marker} at university, can I apply for the STP?")
    folder = assistant.rasa.log.parent

    def files_holding() -> List[str]:
        return [p.name for p in folder.glob("conversations.db*") if marker.encode() in p.read_bytes()]

    assert files_holding(), "the text was stored"
    status, replies = web(assistant, token, "Delete my conversation")
    assert "deleted this conversation" in text_of(replies)
    assert files_holding() == [], "not in the database, its log or its index"


def test_stray_socketio_frames_add_a_line_a_minute_to_the_log_not_one_each(assistant):
    before = rasa_log(assistant).count("outside the socket's conversation")

    async def run() -> None:
        async with Chat(assistant.url) as chat:
            await chat.session()
            await chat.sio.emit("session_request", "not an object")  # keeps the socket joined
            for n in range(100):  # each with a conversation token not the socket's
                await chat.sio.emit("user_uttered", {"message": "hi", "session_id": f"c1.forged{n:04d}"})
                await asyncio.sleep(0.01)  # one frame per request, as a script would
            await asyncio.sleep(1.0)

    asyncio.run(run())
    assert rasa_log(assistant).count("outside the socket's conversation") - before <= 1


def test_unreadable_engineio_requests_add_a_line_a_minute_to_the_log(assistant):
    """engine.io logs a traceback for every polling request it cannot read, such as
    one carrying more than 16 packets."""
    import urllib.request

    base = assistant.url + "/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(base, timeout=10) as opened:
        sid = json.loads(opened.read().decode()[1:])["sid"]
    before = rasa_log(assistant).count("post request handler error")
    for _ in range(50):
        request = urllib.request.Request(
            f"{base}&sid={sid}", data="\x1e".join(["6"] * 20).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    assert rasa_log(assistant).count("post request handler error") - before <= 1


def _said(assistant, token: str, text: str) -> int:
    return sum(
        1
        for kind, data in events_of(assistant, conversation(token))
        if kind == "user" and data["text"] == text
    )


def test_a_retried_message_gets_its_replies_and_runs_once(assistant):
    """The widget's "Try again" sends the message again with its id: a turn that ran
    (its replies lost with the connection) is not run a second time."""
    token = new_token(assistant)

    async def run() -> None:
        async with Chat(assistant.url) as chat:
            await chat.session(token)
            asked = await chat.say("check my eligibility for the STP", message_id="m-check-0001")
            payload = {b["title"]: b["payload"] for r in asked for b in r.get("quick_replies", [])}["2:1"]
            first = await chat.say(payload, message_id="m-click-0001")
            again = await chat.say(payload, message_id="m-click-0001", retry=True)
            assert all(r.pop("replay_of") == "m-click-0001" for r in again), "marked as sent again"
            assert first == again and "subject" in text_of(again), (first, again)
            assert _said(assistant, token, payload) == 1
            unreadable = [d for k, d in events_of(assistant, conversation(token)) if k == "user"]
            assert all(d["parse_data"]["intent"]["name"] != "nlu_fallback" for d in unreadable)
            # Sent again without the flag or with a new id, it is a new message.
            await chat.say("what skills do I need?", message_id="m-skills-001", retry=True)
            assert _said(assistant, token, "what skills do I need?") == 1

    asyncio.run(run())


def test_a_reply_lost_with_the_connection_comes_on_try_again_after_reconnecting(assistant):
    token = new_token(assistant)
    actions = assistant.actions
    assert actions.process is not None
    asked = {"message": "what skills do I need?", "message_id": "m-lost-00001"}

    async def run() -> List[Dict[str, Any]]:
        async with Chat(assistant.url) as leaving:
            await leaving.session(token)
            # The action server held up (well within the action timeout), so that the
            # turn is under way when the socket goes.
            os.killpg(actions.process.pid, signal.SIGSTOP)
            try:
                await leaving.sio.emit("user_uttered", asked)
                await asyncio.sleep(0.8)
            except BaseException:
                os.killpg(actions.process.pid, signal.SIGCONT)
                raise
        os.killpg(actions.process.pid, signal.SIGCONT)
        # The turn finishes with nobody in the room: its replies go nowhere.
        await asyncio.sleep(1.5)
        assert _said(assistant, token, "what skills do I need?") == 1, "the turn ran and was saved"
        async with Chat(assistant.url) as back:
            await back.session(token)
            return await back.say(asked["message"], message_id=asked["message_id"], retry=True)

    assert "attention to detail" in text_of(asyncio.run(run()))
    assert _said(assistant, token, "what skills do I need?") == 1


def test_a_retried_rest_message_gets_its_replies_and_runs_once(assistant):
    token = new_token(assistant)
    body = {"sender": token, "message": "what skills do I need?", "message_id": "m-rest-00001"}
    status, first = post(assistant.url, body, token="")
    status_again, again = post(assistant.url, {**body, "retry": True}, token="")
    assert status == status_again == 200 and first == again and "attention to detail" in text_of(again)
    assert _said(assistant, token, "what skills do I need?") == 1
