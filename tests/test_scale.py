"""Scale-out, tested together (`make test-scale`): two Rasa servers (the first with
two Sanic workers) and the action server in the production profile, on a PostgreSQL
tracker store and a Redis lock store of the test's own (tests/harness/databases.py),
as several machines behind a load balancer. Each server has the reverse proxy in
front of it (deploy/proxy/nginx.conf, tests/harness/proxy.py), as each Kubernetes pod
does, and every conversation goes through a proxy, each visitor from an address of
its own.

- 100 eligibility conversations at once, each turn to the other server than the
  last: every one gets its verdict (the conversation scripts' own checks), and
  PostgreSQL holds every message and reply once, in order.
- Two messages of one conversation sent at the same moment, one to each server, are
  handled one after the other (the Redis lock), never interleaved.
- One server is killed mid-run; the conversations carry on at the other, as a load
  balancer would send them.
- A Slack retry that reaches the other server gets no second answer (Redis).
- One proxy in front of both servers keeps each visitor on one server and spreads
  visitors over both.

Figures go to results/scale.json."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Tuple

import pytest

from tests.harness.databases import private_postgres, private_redis
from tests.harness.proxy import running_proxy
from tests.harness.serverctl import ROOT, post, running_cluster
from tests.harness.slack_standin import SlackStandIn
from tools.careers_team.conversation_scripts import load_scripts
from tools.careers_team.converse import AssistantError, run_conversation

pytestmark = pytest.mark.scale

MODEL = ROOT / "models" / "careers.tar.gz"
CONVERSATIONS = 100
# The turn before which one server is killed: every conversation has done this many.
KILL_BEFORE_TURN = 2
SCRIPTS = [
    c
    for c in load_scripts(
        [ROOT / "tests/conversations/eligibility-stp.yml", ROOT / "tests/conversations/eligibility-ptp.yml"]
    )
    if len(c.turns) > KILL_BEFORE_TURN and any(t.verdict for t in c.turns)
]
RESULTS = ROOT / "results" / "scale.json"
# What a proxy answers for a server that is not there.
SERVER_DOWN = {502, 503, 504}
SLACK_TOKEN, SLACK_SECRET = "xoxb-scale-test", "a-slack-signing-secret-for-scale"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train`"
    folder = tmp_path_factory.mktemp("scale")
    with (
        private_postgres(folder) as postgres,
        private_redis(folder / "redis") as redis,
        SlackStandIn(SLACK_TOKEN) as slack,
    ):
        stores = {**postgres.environment(), **redis.environment()}
        platform = {
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": slack.api_url,
            # The proxy puts the visitor's address alone in X-Forwarded-For.
            "TRUSTED_PROXY_HOPS": "1",
        }
        with running_cluster(MODEL, folder, stores, workers=(2, 1), env=platform) as running:
            servers = [url.removeprefix("http://") for url in running.urls]
            with (
                running_proxy(servers[:1], folder, name="proxy-1") as first,
                running_proxy(servers[1:], folder, name="proxy-2") as second,
                running_proxy(servers, folder, name="proxy-both") as both,
            ):
                running.slack = slack
                # Each server is reached through its own proxy only.
                running.servers_addresses, running.urls = servers, [first.url, second.url]
                running.proxy_for_both = both
                yield running, postgres, redis


def stored_events(postgres, sender: str) -> List[Dict[str, Any]]:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
            )
            return [json.loads(row[0]) for row in rows]
    finally:
        engine.dispose()


class LoadBalanced:
    """Sends each turn of a conversation to the other server than its last turn
    went to, each conversation as a visitor of its own address; a server that does
    not answer (its proxy says 502-504) is taken out, and the turn goes to the
    other, as a load balancer's health check would. Records what was sent and
    received per conversation, and which server took each turn."""

    def __init__(self, urls: List[str], token: str, before_turn: Dict[int, threading.Barrier]) -> None:
        self.urls, self.token, self.before_turn = urls, token, before_turn
        self.down: set = set()
        self.turns: Dict[str, int] = defaultdict(int)
        self.sent: Dict[str, List[str]] = defaultdict(list)
        self.received: Dict[str, List[str]] = defaultdict(list)
        self.served: Counter = Counter()
        self.served_after_kill: Counter = Counter()
        self.killed = threading.Event()
        self.lock = threading.Lock()
        self.addresses: Dict[str, str] = {}

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        turn = self.turns[sender]
        self.turns[sender] += 1
        if turn in self.before_turn:
            self.before_turn[turn].wait(timeout=300)
        with self.lock:
            address = self.addresses.setdefault(sender, visitor_address(len(self.addresses)))
        for url in (self.urls[turn % 2], self.urls[(turn + 1) % 2]):
            if url in self.down:
                continue
            try:
                status, replies = post(
                    url,
                    {"sender": sender, "message": message},
                    token=self.token,
                    headers={"X-Forwarded-For": address},
                )
            except (urllib.error.URLError, ConnectionError) as error:
                if isinstance(error, urllib.error.HTTPError):
                    raise
                status = 503
            if status in SERVER_DOWN:
                with self.lock:
                    self.down.add(url)
                continue
            if status != 200 or not isinstance(replies, list):
                raise AssistantError(f"{url} answered {status}: {replies}")
            with self.lock:
                self.served[url] += 1
                if self.killed.is_set():
                    self.served_after_kill[url] += 1
            self.sent[sender].append(message)
            self.received[sender].extend(r.get("text", "") for r in replies if r.get("text"))
            return replies
        raise AssistantError("no server answered")


def visitor_address(number: int) -> str:
    """An address of its own for each visitor (198.18.0.0/15, set aside for tests),
    as a load balancer in front of the proxies would give it in X-Forwarded-For."""
    return f"198.18.{number // 250}.{number % 250 + 1}"


def _record(figures: Dict[str, Any]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**existing, **figures}, indent=1) + "\n")


def test_turns_of_one_conversation_sent_to_both_servers_at_once_run_one_after_the_other(cluster):
    running, postgres, redis = cluster
    first, second = running.urls
    questions = [("What GCSEs do I need for the PTP?", "GCSE"), ("What skills do I need?", "skill")]
    senders = [f"lock-{n}" for n in range(20)]

    def both_at_once(sender: str) -> List[Tuple[int, Any]]:
        visitor = {"X-Forwarded-For": visitor_address(1000 + senders.index(sender))}
        status, _ = post(
            first, {"sender": sender, "message": "hello"}, token=running.rest_token, headers=visitor
        )
        assert status == 200
        start = threading.Barrier(2)

        def one(url: str, text: str) -> Tuple[int, Any]:
            start.wait()
            return post(url, {"sender": sender, "message": text}, token=running.rest_token, headers=visitor)

        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(one, url, text) for url, (text, _) in zip((first, second), questions, strict=True)
            ]
            return [f.result() for f in futures]

    # One conversation at a time, so that both servers take its two turns at once
    # (with many at a time, each server's queue would often part them by chance).
    answers = {sender: both_at_once(sender) for sender in senders}
    time.sleep(2)  # replies reach the client just before the turn is saved
    for sender, replies in answers.items():
        for (status, reply), (_, topic) in zip(replies, questions, strict=True):
            assert status == 200 and topic.lower() in json.dumps(reply).lower(), (sender, reply)
        events = stored_events(postgres, f"rest:{sender}")
        # One turn after the other: each message was taken (its event made, inside
        # the conversation's lock) only once the turn before had ended, so no two
        # turns overlap in time, and each turn's events are whole.
        turns: List[List[Dict[str, Any]]] = []
        for event in events:
            if event["event"] == "user":
                turns.append([])
            if turns:
                turns[-1].append(event)
        assert len(turns) == 3, [e["event"] for e in events]
        for before, after in zip(turns, turns[1:], strict=False):
            ended = [
                e["timestamp"] for e in before if e["event"] == "action" and e.get("name") == "action_listen"
            ]
            assert ended, f"{sender}: a turn without its end: {[e['event'] for e in before]}"
            assert after[0]["timestamp"] >= ended[-1], f"{sender}: two turns overlapped"
    import redis as redis_client

    stats = redis_client.Redis(host=redis.host, port=redis.port, password=redis.password).info("commandstats")
    assert stats.get("cmdstat_set", {}).get("calls", 0) > 0, "Redis was not used as the lock store"
    _record({"lock_conversations": len(senders), "lock_redis_set_calls": stats["cmdstat_set"]["calls"]})


def test_a_slack_retry_that_reaches_the_other_server_gets_no_second_answer(cluster):
    """Behind a load balancer Slack's retry of an event may reach another server:
    the events taken are kept in Redis (channels/seen.py), so it is known there."""
    running, _, _ = cluster
    slack = running.slack
    first, second = running.urls
    event = slack.message_event("What GCSEs do I need for the PTP?", channel="DSCALE")
    assert slack.send(first, event, SLACK_SECRET)[0] == 200
    answer = slack.wait_until_quiet("DSCALE", 0, quiet=1.5)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert slack.send(second, event, SLACK_SECRET, headers=retry)[0] == 200
    # Turns of a conversation run in order (the lock): a second answer to the retry
    # would come before the answer to this message.
    assert slack.send(second, slack.message_event("thanks", channel="DSCALE"), SLACK_SECRET)[0] == 200
    later = slack.wait_until_quiet("DSCALE", len(answer), quiet=1.5)
    assert later[0]["text"].startswith("You're welcome"), [p["text"] for p in later]
    assert not any("GCSE" in p["text"] for p in later)


def test_one_proxy_in_front_of_both_servers_keeps_each_visitor_on_one(cluster):
    """deploy/proxy/nginx.conf's upstream may name several servers (compose's
    `--scale rasa=N`): each visitor's requests all go to one server, so socket.io's
    long-polling holds, and the visitors are spread over all of them."""
    running, _, _ = cluster
    proxy = running.proxy_for_both
    before = len(proxy.access_lines())
    visitors = [visitor_address(2000 + n) for n in range(20)]
    for visitor in visitors:
        for _ in range(3):
            request = urllib.request.Request(proxy.url + "/", headers={"X-Forwarded-For": visitor})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert json.loads(answer.read()) == {"status": "ok"}
    time.sleep(0.5)  # nginx writes a line once the answer is sent
    lines = proxy.access_lines()[before:]
    assert len(lines) == 3 * len(visitors), lines
    # The log's fields: time, method, path, status, bytes, seconds, upstream, ...
    upstreams = [line.split()[6] for line in lines]
    per_visitor = [set(upstreams[n : n + 3]) for n in range(0, len(upstreams), 3)]
    assert all(len(servers) == 1 for servers in per_visitor), per_visitor
    assert set(upstreams) == set(running.servers_addresses), set(upstreams)


def test_a_hundred_conversations_across_two_servers_one_killed_mid_run(cluster):
    running, postgres, _ = cluster
    killed_server = running.rasas[1]

    def kill() -> None:
        killed_server.kill()
        balancer.killed.set()

    barrier = threading.Barrier(CONVERSATIONS, action=kill)
    balancer = LoadBalanced(running.urls, running.rest_token, {KILL_BEFORE_TURN: barrier})
    chosen = [SCRIPTS[n % len(SCRIPTS)] for n in range(CONVERSATIONS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        results = list(pool.map(lambda c: run_conversation(balancer, c), chosen))
    seconds = time.perf_counter() - started
    failed = [r.failure() for r in results if not r.passed]
    assert not failed, "\n\n".join(failed[:3])
    # The killed server is gone, and every turn after the kill went to the other.
    assert killed_server.process is not None and killed_server.process.poll() is not None
    assert set(balancer.served_after_kill) == {running.urls[0]}
    assert balancer.served[running.urls[1]] >= CONVERSATIONS  # it took its share before
    time.sleep(2)
    lost_or_doubled = []
    for result in results:
        events = stored_events(postgres, f"rest:{result.sender}")
        said = [e.get("text") or "" for e in events if e["event"] == "user"]
        answered = [e.get("text") for e in events if e["event"] == "bot" and e.get("text")]
        if said != balancer.sent[result.sender] or "\n\n".join(answered) != "\n\n".join(
            balancer.received[result.sender]
        ):
            lost_or_doubled.append(result.sender)
    assert not lost_or_doubled, (
        f"{len(lost_or_doubled)} conversations differ in PostgreSQL: {lost_or_doubled[:3]}"
    )
    turns = sum(balancer.served.values())
    _record(
        {
            "conversations": CONVERSATIONS,
            "turns": turns,
            "seconds": round(seconds, 1),
            "turns_per_second": round(turns / seconds, 1),
            "turns_per_server": {
                f"server {n}": balancer.served[url] for n, url in enumerate(running.urls, 1)
            },
            "turns_after_the_kill": {
                f"server {n}": balancer.served_after_kill[url] for n, url in enumerate(running.urls, 1)
            },
        }
    )


def test_tickets_taken_at_once_through_two_lock_stores_are_all_different(cluster):
    """The lock store's own guarantee, without Rasa around it: 200 tickets for one
    conversation taken by 40 threads through two stores (two servers) are 200
    different numbers, in order, and the lock is gone once all are finished."""
    from runtime.lock_store import AtomicRedisLockStore

    _, _, redis = cluster
    stores = [
        AtomicRedisLockStore(host=redis.host, port=redis.port, password=redis.password, key_prefix="tickets")
        for _ in range(2)
    ]
    with ThreadPoolExecutor(40) as pool:
        tickets = list(pool.map(lambda n: stores[n % 2].issue_ticket("one-conversation"), range(200)))
    assert sorted(tickets) == list(range(200))
    with ThreadPoolExecutor(40) as pool:
        list(pool.map(lambda t: stores[t % 2].cleanup("one-conversation", t), tickets))
    assert stores[0].get_lock("one-conversation") is None


def test_the_report_and_the_purge_read_the_production_profiles_database(cluster, monkeypatch, capsys):
    """`make report` and `make purge` with ENDPOINTS=deploy/endpoints.production.yml
    and the servers' environment (its optional settings left out)."""
    from runtime.retention import main as purge
    from tools.careers_team.report.command import main as report

    running, postgres, redis = cluster
    for name, value in {
        **postgres.environment(),
        "REDIS_HOST": redis.host,
        "ACTION_SERVER_URL": "http://x/",
    }.items():
        monkeypatch.setenv(name, value)
    for optional in ("REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB"):
        monkeypatch.delenv(optional, raising=False)
    production = str(ROOT / "deploy" / "endpoints.production.yml")
    # The scripts' conversations are test traffic, left out unless asked for.
    assert report(["--endpoints", production, "--include-test-traffic"]) == 0
    out = capsys.readouterr().out
    conversations = int(out.split("conversations", 1)[1].split()[0])
    assert conversations >= CONVERSATIONS
    assert "in REST (other servers)" in out and "in Slack" in out
    assert purge(["--endpoints", production, "--days", "30", "--dry-run"]) == 0
