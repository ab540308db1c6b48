"""What the reverse proxy adds to a REST turn: the real servers started as
`make run` starts them, deploy/proxy/nginx.conf in front (tests/harness/proxy.py),
and the same question asked straight to Rasa and through the proxy in turn.

    python -m benchmarks.proxy_latency [--turns 50]

Prints the median and 90th percentile of each, and the difference of the medians.
Each turn is a new conversation from a visitor of its own, so neither Rasa's cache
nor the proxy's rate limits favour one side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

from tests.harness.proxy import running_proxy
from tests.harness.serverctl import ROOT, running_assistant

MODEL = ROOT / "models" / "careers.tar.gz"
QUESTION = "What skills do I need?"


def timed_turn(url: str, token: str, sender: str, visitor: str) -> float:
    """Seconds from sending a REST message to having read the whole reply."""
    body = json.dumps({"sender": sender, "message": QUESTION}).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "X-Forwarded-For": visitor,
    }
    request = urllib.request.Request(url + "/webhooks/rest/webhook", data=body, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        replies = json.loads(answer.read())
    seconds = time.perf_counter() - started
    if not replies:
        raise RuntimeError(f"no reply from {url}")
    return seconds


def measure(turns: int) -> Dict[str, List[float]]:
    """Milliseconds per turn, straight to Rasa and through the proxy, interleaved."""
    times: Dict[str, List[float]] = {"direct": [], "proxy": []}
    with tempfile.TemporaryDirectory() as folder, running_assistant(MODEL, Path(folder)) as assistant:
        port = assistant.url.rsplit(":", 1)[1]
        with running_proxy([f"127.0.0.1:{port}"], Path(folder)) as proxy:
            routes = {"direct": assistant.url, "proxy": proxy.url}
            for n in range(-5, turns):  # five of each first, not counted: warming up
                for name, url in routes.items():
                    visitor = f"198.18.{(n + 5) // 250}.{(n + 5) % 250 + 1}"
                    seconds = timed_turn(url, assistant.rest_token, f"latency-{name}-{n}", visitor)
                    if n >= 0:
                        times[name].append(seconds * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=50)
    args = parser.parse_args()
    times = measure(args.turns)
    for name, values in times.items():
        median, tenth = statistics.median(values), statistics.quantiles(values, n=10)[-1]
        print(f"{name:>6}: median {median:.1f} ms, p90 {tenth:.1f} ms ({len(values)} turns)")
    extra = statistics.median(times["proxy"]) - statistics.median(times["direct"])
    print(f" extra: {extra:+.1f} ms per turn (median through the proxy minus median straight to Rasa)")


if __name__ == "__main__":
    main()
