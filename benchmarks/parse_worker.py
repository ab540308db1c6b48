"""Run in a subprocess per bot: load the model into this process and time the NLU
alone on each held-out message (`Agent.parse_message`), after a few warm-up calls.

    python -m benchmarks.parse_worker MODEL DATA.yml RESULT.json [--limit N] [--warm-up 5]

RESULT.json gets {"seconds": [...]}, one figure per message of DATA.yml (Rasa's NLU
format), in order, the first N only with --limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path
from typing import List, Optional

from runtime.quiet import no_library_warnings


async def time_parses(model: str, data: str, limit: Optional[int], warm_up: int) -> List[float]:
    with no_library_warnings():
        from rasa.core.agent import Agent
        from rasa.shared.nlu.training_data.loading import load_data
        from rasa.utils.log_utils import configure_structlog

        logging.getLogger("rasa").setLevel(logging.WARNING)
        configure_structlog(logging.WARNING)
        texts = [str(m.get("text")) for m in load_data(data).intent_examples][:limit]
        agent = Agent.load(model)
    for text in texts[:warm_up]:
        await agent.parse_message(text)
    seconds = []
    for text in texts:
        started = time.perf_counter()
        await agent.parse_message(text)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("result", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--warm-up", type=int, default=5)
    args = parser.parse_args()
    seconds = asyncio.run(time_parses(args.model, args.data, args.limit, args.warm_up))
    args.result.write_text(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
