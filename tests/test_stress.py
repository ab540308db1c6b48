"""Load on the real servers (`make test-stress`): 200 web conversations of 10 turns
at once, as visitors behind a reverse proxy would send them, while one visitor
floods the service.

No request fails; each conversation gets the verdict its own facts call for (no
cross-talk); the store holds every event of every conversation afterwards, counted
turn by turn; the flood gets HTTP 429 and slows nobody else to a failure.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import time
from collections import Counter
from typing import Any, Dict, List, Tuple

import aiohttp
import pytest

from careers.vocabulary import ELIGIBLE, NOT_ELIGIBLE
from channels import ownership
from tests.harness.serverctl import ROOT, running_assistant

MODEL = ROOT / "models" / "careers.tar.gz"
SECRET = "a-conversation-secret-for-the-load-test"
CONVERSATIONS = 200
SETTINGS = {
    ownership.CONVERSATION_SECRET: SECRET,
    # One proxy in front, as in production: each visitor is its X-Forwarded-For address.
    "TRUSTED_PROXY_HOPS": "1",
    # Turns come as fast as the replies do; under this load a reply can take a while.
    "ACTION_TIMEOUT_SECONDS": "60",
}
FLOODER = "10.99.99.99"
RESULTS = ROOT / "results" / "stress.json"

pytestmark = [pytest.mark.servers, pytest.mark.stress]

# Each conversation's facts, and what its verdict and "why?" must then say.
CASES = [
    ("2:1", "physics", ELIGIBLE, "You have a 2:1 in physics"),
    ("first", "engineering", ELIGIBLE, "You have a first in engineering"),
    ("2:1", "applied mathematics", ELIGIBLE, "You have a 2:1 in applied mathematics"),
    ("third", None, NOT_ELIGIBLE, "you have a third"),
]


def turns(degree_class: str, subject: Any) -> List[str]:
    """Ten messages: a question, the check, its facts, "why?" and more questions."""
    facts = [degree_class, subject] if subject else [degree_class]
    said = ["hello", "what skills do I need?", "check my eligibility for the STP", *facts, "why?"]
    said += ["what grades do I need for the PTP?", "thanks", "how do I get in?", "bye", "thank you"]
    return said[:10]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train`"
    with running_assistant(MODEL, tmp_path_factory.mktemp("stress"), env=SETTINGS) as running:
        yield running


async def call(http: aiohttp.ClientSession, url: str, address: str, body: Any) -> Tuple[int, Any]:
    async with http.post(url, json=body, headers={"X-Forwarded-For": address}) as response:
        return response.status, await response.json(content_type=None)


async def visitor(http: aiohttp.ClientSession, base: str, number: int) -> Dict[str, Any]:
    degree_class, subject, verdict, why = CASES[number % len(CASES)]
    address = f"10.{number // 250}.{number % 250}.1"
    status, issued = await call(http, base + "/webhooks/rest/conversations", address, None)
    assert status == 201, issued
    sent = turns(degree_class, subject)
    replies: List[List[Dict[str, Any]]] = []
    waits: List[float] = []
    for text in sent:
        started = time.monotonic()
        status, reply = await call(
            http, base + "/webhooks/rest/webhook", address, {"sender": issued["token"], "message": text}
        )
        waits.append(time.monotonic() - started)
        assert status == 200, (number, text, status, reply)
        replies.append(reply)
    return {
        "token": issued["token"],
        "sent": sent,
        "replies": replies,
        "verdict": verdict,
        "why": why,
        "waits": waits,
    }


async def flood(http: aiohttp.ClientSession, base: str) -> Counter:
    """One visitor: 60 new conversations at once, then 200 messages at once in one."""
    statuses: Counter = Counter()
    made = await asyncio.gather(
        *(call(http, base + "/webhooks/rest/conversations", FLOODER, None) for _ in range(60))
    )
    statuses.update(f"new {status}" for status, _ in made)
    token = next(reply["token"] for status, reply in made if status == 201)
    sent = await asyncio.gather(
        *(
            call(http, base + "/webhooks/rest/webhook", FLOODER, {"sender": token, "message": "hello"})
            for _ in range(200)
        )
    )
    statuses.update(f"message {status}" for status, _ in sent)
    return statuses


async def load(base: str) -> Tuple[List[Dict[str, Any]], Counter]:
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as http:
        *visits, flooded = await asyncio.gather(
            *(visitor(http, base, n) for n in range(CONVERSATIONS)), flood(http, base)
        )
    return list(visits), flooded


def text_of(reply: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in reply)


def test_200_conversations_at_once_with_a_flood(assistant):
    started = time.monotonic()
    visits, flooded = asyncio.run(load(assistant.url))
    # What happened, for the record (results/stress.json); not judged here.
    waits = sorted(w for visit in visits for w in visit["waits"])
    RESULTS.parent.mkdir(exist_ok=True)
    figures = {
        "conversations": len(visits),
        "messages": len(waits),
        "seconds": round(time.monotonic() - started, 1),
        "median_reply_ms": round(statistics.median(waits) * 1000),
        "p95_reply_ms": round(waits[int(len(waits) * 0.95)] * 1000),
        "flood": dict(flooded),
    }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")

    # The flood was refused, politely, beyond its allowances...
    assert flooded["new 429"] > 0 and flooded["message 429"] > 0, flooded
    assert set(flooded) <= {"new 201", "new 429", "message 200", "message 429"}, flooded
    # ...and every other visitor was served: each verdict is its own facts' verdict.
    for visit in visits:
        verdicts = [
            m["custom"]["assessment"]["verdict"]
            for r in visit["replies"]
            for m in r
            if "custom" in m and "assessment" in m["custom"]
        ]
        assert verdicts == [visit["verdict"]], (visit["sent"], verdicts)
        why = text_of(visit["replies"][visit["sent"].index("why?")])
        assert visit["why"] in why, (visit["sent"], why)

    # The store holds every message and reply of every conversation, in order.
    with sqlite3.connect(assistant.rasa.log.parent / "conversations.db") as db:
        rows = db.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()
    stored: Dict[str, Dict[str, List[str]]] = {}
    for sender, kind, data in rows:
        if kind in ("user", "bot"):
            stored.setdefault(sender, {"user": [], "bot": []})[kind].append(
                json.loads(data).get("text") or ""
            )
    for visit in visits:
        mine = stored[ownership.conversation_of(visit["token"], SECRET.encode())]
        assert mine["user"] == visit["sent"]
        # REST sends a stored reply's paragraphs as separate messages.
        stored_parts = [part for text in mine["bot"] if text for part in text.strip().split("\n\n")]
        assert stored_parts == [m["text"] for r in visit["replies"] for m in r if "text" in m]
    users = sum(len(s["user"]) for s in stored.values())
    assert users == CONVERSATIONS * 10 + flooded["message 200"], "every message, counted"
