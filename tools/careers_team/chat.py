"""A terminal chat with the running assistant (`make shell`), over its REST channel.

    python -m tools.careers_team.chat [--url http://localhost:5005]

It talks to the assistant `make run` started (or the one at --url), so the replies
are the ones people get, from the same servers and settings. It prints the
assistant's words only: the choices a reply offers as a numbered list (lettered
when the choices are themselves numbers, such as "1", "2", "3 or more"), answered
by typing the number or letter, or anything else, which is sent as typed; a
verdict as a short summary. Payloads and JSON are never shown. "quit", Ctrl-D or
Ctrl-C ends it.

It posts as a trusted server, with the REST token (tools/careers_team/rest_client.py),
under a conversation id marked as test traffic (test-chat-...): trying the bot is not
real use, so `make report` leaves these conversations out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import string
import sys
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools.careers_team.rest_client import AssistantError, Refused, RestAssistant, new_test_sender

DEFAULT_URL = "http://localhost:5005"
QUIT = "quit"
SPEAKER = "Assistant: "
INDENT = " " * len(SPEAKER)
# A choice's title that is itself a number ("1", "3 or more", "2:1") would be
# confused with the choice's own number, so such choices are lettered instead.
_NUMBER_TITLE = re.compile(r"^\s*\d")
MAX_WIDTH = 100
MIN_WIDTH = 40


@dataclass(frozen=True)
class Choice:
    """A button as offered in the terminal: the key to type, what it says, what it sends."""

    key: str
    title: str
    payload: str


@dataclass(frozen=True)
class Shown:
    """A reply as printed, and the choices it leaves on offer."""

    lines: List[str]
    choices: List[Choice]


def choices_of(buttons: Sequence[Mapping[str, Any]]) -> List[Choice]:
    """The buttons numbered 1, 2, ... (or lettered a, b, ... when a title is a number),
    each sending its payload (its title if it has none)."""
    titles = [str(b.get("title") or b.get("payload") or "").strip() for b in buttons]
    lettered = any(_NUMBER_TITLE.match(title) for title in titles) and len(titles) <= 26
    keys = string.ascii_lowercase if lettered else [str(n) for n in range(1, len(titles) + 1)]
    return [
        Choice(key, title, str(button.get("payload") or title))
        for key, title, button in zip(keys, titles, buttons, strict=False)
        if title
    ]


def message_for(typed: str, choices: Sequence[Choice]) -> Tuple[str, Optional[Choice]]:
    """What to send for a typed line: the payload of the choice whose key it is, else
    the line as typed (a question typed while choices are on offer is sent as it is)."""
    key = typed.strip().lower().rstrip(").")
    for choice in choices:
        if key == choice.key:
            return choice.payload, choice
    return typed, None


def _wrapped(text: str, width: int, first: str = INDENT) -> List[str]:
    """Lines of the assistant's text, wrapped under the speaker's name; a bullet's
    continuation lines under its words, and addresses never broken."""
    lines: List[str] = []
    for number, line in enumerate(text.split("\n")):
        lead = first if number == 0 else INDENT
        if not line.strip():
            lines.append("")
            continue
        hang = INDENT + ("  " if line.lstrip().startswith(("- ", "* ", "• ")) else "")
        lines += textwrap.wrap(
            line.strip(),
            width,
            initial_indent=lead,
            subsequent_indent=hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def _strings(value: Any) -> List[str]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _assessment(message: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    custom = message.get("custom")
    found = custom.get("assessment") if isinstance(custom, dict) else None
    return found if isinstance(found, dict) and isinstance(found.get("verdict"), str) else None


def render_assessment(assessment: Mapping[str, Any], said: str, width: int) -> List[str]:
    """The verdict in words ("Verdict for the STP: ✓ Eligible"), then the reasons and
    sources the reply's text has not already given (the verdict's text usually gives
    them all, and the terminal need not print them twice)."""
    label = str(assessment.get("verdict_label") or "").strip()
    label = label or str(assessment["verdict"]).replace("_", " ").capitalize()
    mark = str(assessment.get("verdict_mark") or "").strip()
    programme = str(assessment.get("programme_name") or assessment.get("programme") or "").strip()
    heading = f"Verdict for the {programme}:" if programme else "Verdict:"
    lines = _wrapped(" ".join(part for part in (heading, mark, label) if part), width)
    flat = " ".join(said.split())
    reasons = [r for r in _strings(assessment.get("reasons")) if " ".join(r.split()) not in flat]
    sources = [s for s in _strings(assessment.get("sources")) if s.startswith(("http://", "https://"))]
    sources = [s for s in dict.fromkeys(sources) if s not in flat]
    if reasons:
        lines += _wrapped("Why:\n" + "\n".join(f"- {r}" for r in reasons), width)
    if sources:
        lines += _wrapped("Sources:\n" + "\n".join(f"- {s}" for s in sources), width)
    return lines


def render(messages: Sequence[Any], width: int = MAX_WIDTH) -> Shown:
    """A reply's messages as terminal lines: the text, an image's address, a verdict's
    summary and the choices, in the order sent; nothing else (no payloads, no JSON)."""
    usable = [m for m in messages if isinstance(m, dict)]
    said = "\n".join(str(m["text"]) for m in usable if isinstance(m.get("text"), str))
    blocks: List[List[str]] = []
    buttons: List[Mapping[str, Any]] = []
    for message in usable:
        if isinstance(message.get("text"), str) and message["text"].strip():
            blocks.append(_wrapped(message["text"].strip(), width))
        if isinstance(message.get("image"), str) and message["image"].strip():
            blocks.append(_wrapped(f"Image: {message['image'].strip()}", width))
        assessment = _assessment(message)
        if assessment is not None:
            blocks.append(render_assessment(assessment, said, width))
        buttons += [b for b in message.get("buttons") or [] if isinstance(b, dict)]
    lines: List[str] = []
    for block in blocks:
        lines += ([""] if lines else []) + block
    choices = choices_of(buttons)
    lines += [f"{INDENT}{c.key}) {c.title}" for c in choices]  # under the question
    if lines:
        lines[0] = SPEAKER + lines[0][len(INDENT) :]
    else:
        lines = [SPEAKER + "(no reply)"]
    return Shown(lines, choices)


def chat(
    send: Callable[[str], List[Dict[str, Any]]],
    ask: Callable[[str], str],
    out: TextIO,
    width: int = MAX_WIDTH,
) -> int:
    """The conversation loop: reads a line with `ask`, sends it with `send`, prints the
    reply to `out`; until "quit", the end of input or Ctrl-C. Returns the exit status:
    0, or 2 if the assistant refuses the token (no later turn would get through)."""
    choices: List[Choice] = []
    while True:
        try:
            typed = ask("You: ")
            if typed.strip().lower() == QUIT:
                break
            if not typed.strip():
                continue
            message, chosen = message_for(typed, choices)
            if chosen is not None:
                print(f"     (you chose: {chosen.title})", file=out)
            replies = send(message)
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            break
        except Refused as refused:
            print(refused.advice("make shell"), file=out)
            return 2
        except AssistantError as error:
            print(f"{SPEAKER}(no answer: {error}. Is `make run` still going?)", file=out)
            continue
        shown = render(replies, width)
        print("\n".join(shown.lines) + "\n", file=out)
        choices = shown.choices
    print("Goodbye.", file=out)
    return 0


def _echoing(prompt: str) -> str:
    """input(), showing the line read: input from a file or pipe is not echoed."""
    line = input(prompt)
    print(line)
    return line


def banner(url: str, sender: str, width: int = MAX_WIDTH) -> str:
    """What the chat is and how to use it, printed once at the start."""
    paragraphs = (
        f"Chatting with the assistant at {url}, as {sender} (marked as test traffic: "
        "`make report` leaves it out).",
        "Type a message and press Enter. Where the assistant offers choices, type a "
        "choice's number (or letter), or type anything else to send it as it is. "
        f'Type "{QUIT}" or press Ctrl-D to leave.',
    )
    return "\n".join(textwrap.fill(p, width, break_long_words=False) for p in paragraphs) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the assistant's address (default {DEFAULT_URL})")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # emoji in titles on a plain terminal
        sys.stdout.reconfigure(errors="replace")
    assistant = RestAssistant.at(args.url)
    if not assistant.reachable():
        print(
            f"Nothing answers at {assistant.url}. Start the assistant first with `make run` "
            "in another terminal, or give its address: make shell URL=...",
            file=sys.stderr,
        )
        return 2
    sender = new_test_sender("chat")
    width = max(MIN_WIDTH, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns - 1))
    print(banner(assistant.url, sender, width))
    ask: Callable[[str], str] = input
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):  # line editing and history for input()
            import readline  # noqa: F401
    else:
        ask = _echoing
    return chat(lambda text: assistant.send(sender, text), ask, sys.stdout, width)


if __name__ == "__main__":
    sys.exit(main())
