"""Run conversation scripts against the assistant and say what went wrong.

    python -m tools.careers_team.converse [scripts...]              # in-process: trained model + real actions
    python -m tools.careers_team.converse --url http://localhost:5005 tests/conversations/feedback.yml
    python -m tools.careers_team.converse --junit build/conversations.xml
    python -m tools.careers_team.converse --channel slack   # as Slack payloads (or teams)

`make conversations SCRIPTS=... URL=... JUNIT=...` runs it. In-process, the trained
model runs inside this process and the custom actions run through rasa-sdk's own
executor, as the action server runs them but without HTTP, so no servers are
needed. With --url, each turn is a POST to the REST channel, as a trusted server
(tools/careers_team/rest_client.py): with REST_API_TOKEN from the environment, or
else this checkout's own, the one `make run` starts the assistant with; a token the
assistant refuses stops the run with one message saying what to do.
With --channel slack or teams, each turn is sent as that platform sends it, to
servers started for the run, and replies are read where the assistant posts them
(tools/careers_team/platforms.py).
Each conversation is a new one, named as test traffic (test-script-...), so that
`make report` leaves it out. A JUnit XML report is written only when --junit asks.
Exit status: 0 if every conversation passed, 1 if any failed, 2 if a script is
malformed or the assistant cannot be reached or refuses the token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import textwrap
import time
import warnings
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from runtime.quiet import no_library_warnings
from tools.careers_team.conversation_scripts import (
    Check,
    Conversation,
    Reply,
    ScriptError,
    Turn,
    check_reply,
    find_button,
    load_scripts,
)
from tools.careers_team.platforms import PLATFORMS, PlatformError, started
from tools.careers_team.rest_client import AssistantError, Refused, RestAssistant, new_test_sender

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCRIPTS = ROOT / "tests" / "conversations"
DEFAULT_MODEL = ROOT / "models" / "careers.tar.gz"


class InProcessAssistant:
    """The trained model in this process, with the project's actions run by rasa-sdk."""

    def __init__(self, model: Path = DEFAULT_MODEL, tracker_store: Any = None) -> None:
        if not Path(model).exists():
            raise AssistantError(f"no trained model at {model}: run `make train`")
        with warnings.catch_warnings():  # Rasa's dependencies warn on import
            warnings.simplefilter("ignore")
            from rasa.core.agent import Agent
            from rasa.utils.log_utils import configure_structlog

            from runtime import rasa_patches

            rasa_patches.apply()  # as the server runs (python -m runtime)

            logging.getLogger("rasa").setLevel(logging.WARNING)
            configure_structlog(logging.WARNING)
            self._loop = asyncio.new_event_loop()
            self.agent = Agent.load(
                str(model), action_endpoint=_in_process_actions(), tracker_store=tracker_store
            )

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        output = CollectingOutputChannel()
        user_message = UserMessage(message, output, sender, input_channel="scripts")
        self._loop.run_until_complete(self.agent.handle_message(user_message))
        return output.messages

    def events(self, sender: str) -> List[Dict[str, Any]]:
        """The conversation's events as stored (for tests that look behind the replies)."""
        tracker = self._loop.run_until_complete(self.agent.tracker_store.retrieve(sender))
        return [event.as_dict() for event in tracker.events] if tracker else []

    def close(self) -> None:
        self._loop.close()


def _in_process_actions() -> Any:
    """An action endpoint that hands each call to rasa-sdk's executor in this process,
    the one the action server runs (runtime/action_server.py, with Rasa 3.6's contract).

    The call and the response go through JSON, as they would over HTTP, and the
    executor's errors become the ones Rasa raises for the action server's 400/404.
    The endpoint's settings but its URL come from endpoints.yml, so that Rasa sends
    the domain only to the actions marked `send_domain`, as the server does.
    """
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk import interfaces

    from runtime.action_server import as_json, executor_for

    executor = executor_for("actions")

    class InProcessActionEndpoint(EndpointConfig):
        async def request(
            self,
            method: str = "post",
            subpath: Optional[str] = None,
            content_type: Optional[str] = "application/json",
            compress: bool = False,
            **kwargs: Any,
        ) -> Any:
            call = json.loads(json.dumps(kwargs["json"]))
            try:
                response = await executor.run(call)
            except interfaces.ActionExecutionRejection as error:
                raise ActionExecutionRejection(error.action_name, error.message) from error
            except interfaces.ActionNotFoundException as error:
                raise RasaException(f"no action '{error.action_name}' in actions/") from error
            return json.loads(json.dumps(as_json(response)))

    settings = yaml.safe_load((ROOT / "endpoints.yml").read_text())["action_endpoint"]
    settings.pop("url", None)
    return InProcessActionEndpoint(url="in-process://actions", **settings)


# Running ---------------------------------------------------------------------------


@dataclass
class TurnResult:
    turn: Turn
    reply: Optional[Reply]
    checks: List[Check]
    problem: str = ""  # a click that could not be made, or an unreachable assistant

    @property
    def passed(self) -> bool:
        return not self.problem and all(c.passed for c in self.checks)


@dataclass
class Result:
    conversation: Conversation
    sender: str = ""
    turns: List[TurnResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns) and len(self.turns) == len(self.conversation.turns)

    def failure(self) -> str:
        """The failing turn, side by side with what the assistant said."""
        for number, result in enumerate(self.turns, 1):
            if not result.passed:
                return describe_failure(self.conversation, number, result)
        return ""


def run_conversation(assistant: Any, conversation: Conversation) -> Result:
    """Plays the turns in order as a new person; stops at the first turn that fails.

    The conversation is named as test traffic. A refused token (Refused) is not one
    turn's failure but the whole run's, so it is raised for the caller to report once.
    """
    sender = new_test_sender("script")
    result = Result(conversation, sender)
    started = time.monotonic()
    previous: Optional[Reply] = None
    for turn in conversation.turns:
        message = turn.user
        if turn.click is not None:
            button, problem = find_button(previous, turn.click)
            if button is None:
                result.turns.append(TurnResult(turn, previous, [], problem))
                break
            message = button["payload"]
        try:
            if turn.click is not None and callable(getattr(assistant, "click", None)):
                messages = assistant.click(sender, button)  # the platform's own click
            else:
                messages = assistant.send(sender, message or "")
            reply = Reply.from_messages(messages)
        except Refused:
            raise
        except (AssistantError, PlatformError) as error:
            result.turns.append(TurnResult(turn, None, [], str(error)))
            break
        turn_result = TurnResult(turn, reply, check_reply(turn, reply))
        result.turns.append(turn_result)
        previous = reply
        if not turn_result.passed:
            break
    result.seconds = time.monotonic() - started
    return result


# Reporting -------------------------------------------------------------------------

LEFT, RIGHT = 44, 58


def _reply_lines(reply: Optional[Reply]) -> List[str]:
    if reply is None:
        return ["(nothing)"]
    lines: List[str] = []
    for paragraph in (reply.text or "(no text)").split("\n"):
        lines += textwrap.wrap(paragraph, RIGHT) or [""]
    if reply.buttons:
        lines += textwrap.wrap("[buttons: " + " | ".join(reply.button_titles()) + "]", RIGHT)
    for assessment in reply.assessments:
        lines.append(f"[verdict: {assessment.get('verdict')} for the {assessment.get('programme')}]")
    return lines


def describe_failure(conversation: Conversation, number: int, result: TurnResult) -> str:
    turn = result.turn
    head = [
        f"{conversation.where}  {conversation.name}",
        f"  turn {number} (line {turn.line}): {turn.said()}",
    ]
    if result.problem:
        head.append(f"  could not go on: {result.problem}")
        if result.reply is None:
            return "\n".join(head)
    left: List[str] = []
    for check in result.checks:
        mark = "ok  " if check.passed else "FAIL"
        left += textwrap.wrap(f"{mark} {check.description}", LEFT, subsequent_indent="     ")
    right = _reply_lines(result.reply)
    rows = [f"  {'expected':<{LEFT}} | the assistant said", f"  {'-' * LEFT} | {'-' * RIGHT}"]
    for i in range(max(len(left), len(right))):
        said = left[i] if i < len(left) else ""
        reply = right[i] if i < len(right) else ""
        rows.append(f"  {said:<{LEFT}} | {reply}".rstrip())
    return "\n".join(head + rows)


def write_junit(results: Sequence[Result], path: Path, target: str) -> None:
    """A JUnit XML report: one test suite per script file, one test case per conversation."""
    root = ElementTree.Element("testsuites", name=f"conversation scripts ({target})")
    by_file: Dict[Path, List[Result]] = {}
    for result in results:
        by_file.setdefault(result.conversation.file, []).append(result)
    for file, file_results in by_file.items():
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=_relative(file),
            tests=str(len(file_results)),
            failures=str(sum(not r.passed for r in file_results)),
            errors="0",
            time=f"{sum(r.seconds for r in file_results):.3f}",
        )
        for result in file_results:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"conversations.{file.stem}",
                name=result.conversation.name,
                file=_relative(file),
                line=str(result.conversation.line),
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                text = result.failure()
                failure = ElementTree.SubElement(case, "failure", message=text.splitlines()[1].strip())
                failure.text = text
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _relative(file: Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(ROOT))
    except ValueError:
        return str(file)


def run_all(assistant: Any, conversations: Sequence[Conversation], target: str) -> List[Result]:
    print(f"Running {len(conversations)} conversations against {target}")
    results = []
    for conversation in conversations:
        result = run_conversation(assistant, conversation)
        results.append(result)
        print(f"  {'pass' if result.passed else 'FAIL'}  {conversation.where}  {conversation.name}")
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scripts",
        nargs="*",
        type=Path,
        default=[DEFAULT_SCRIPTS],
        help="script files or folders (default: tests/conversations)",
    )
    parser.add_argument("--url", help="a running assistant's address, e.g. http://localhost:5005")
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="the trained model for in-process runs"
    )
    parser.add_argument(
        "--channel",
        choices=PLATFORMS,
        help="send each turn as this platform does, to servers started for the run",
    )
    parser.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    parser.add_argument(
        "-k", dest="keyword", default="", help="only conversations whose name contains this text"
    )
    args = parser.parse_args(argv)

    try:
        conversations = load_scripts(args.scripts)
    except ScriptError as error:
        print("The conversation scripts have problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    conversations = [c for c in conversations if args.keyword.lower() in c.name.lower()]
    if not conversations:
        print("No conversations to run.", file=sys.stderr)
        return 2
    if args.url and args.channel:
        print("--channel starts servers of its own; it cannot be used with --url.", file=sys.stderr)
        return 2
    if args.channel:
        target = f"{args.channel} payloads"
        print(f"Starting the servers with a stand-in for {args.channel} (a minute)")
        with started(args.channel, args.model) as assistant:
            results = run_all(assistant, conversations, target)
    else:
        target = args.url or "in-process"
        try:
            assistant = RestAssistant.at(args.url) if args.url else InProcessAssistant(args.model)
        except AssistantError as error:
            print(error, file=sys.stderr)
            return 2
        try:
            results = run_all(assistant, conversations, target)
        except Refused as refused:  # every conversation would be: said once, the run stops
            print("\n" + refused.advice("make conversations"), file=sys.stderr)
            return 2
        finally:
            assistant.close()
    failed = [r for r in results if not r.passed]
    for result in failed:
        print("\n" + result.failure())
    if args.junit:
        write_junit(results, args.junit, target)
        print(f"\nJUnit report: {args.junit}")
    turns = sum(len(r.turns) for r in results)
    print(
        f"\n{len(results) - len(failed)} of {len(results)} conversations passed "
        f"({turns} turns, {sum(r.seconds for r in results):.1f} s)."
    )
    unreachable = [r for r in failed if any(t.reply is None and t.problem for t in r.turns)]
    if args.url and unreachable and len(unreachable) == len(results):
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    with no_library_warnings():
        status = main()
    sys.exit(status)
