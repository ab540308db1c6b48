"""Conversation scripts: the YAML format content editors write, read and checked.

A script file holds conversations; a conversation is a list of turns; a turn is
what the person says (or which button they click) and what the assistant's reply
must, or must not, contain. The format is described, with examples, in
`tests/conversations/README.md`. Pure Python: no Rasa import.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from careers.vocabulary import PROGRAMMES, VERDICTS

SAY_KEYS = ("user", "click")
CHECK_KEYS = ("says", "not_says", "matches", "buttons", "verdict", "programme")
TURN_KEYS = SAY_KEYS + CHECK_KEYS


class ScriptError(Exception):
    """Everything wrong with one or more script files, each as 'file:line: what'."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Turn:
    line: int
    user: Optional[str] = None  # what the person types
    click: Optional[str] = None  # or the title of a button they click
    says: Tuple[str, ...] = ()
    not_says: Tuple[str, ...] = ()
    matches: Tuple[str, ...] = ()
    buttons: Optional[Tuple[str, ...]] = None  # None: not checked; (): none offered
    verdict: Optional[str] = None
    programme: Optional[str] = None

    def said(self) -> str:
        return f'you said "{self.user}"' if self.click is None else f'you clicked "{self.click}"'


@dataclass(frozen=True)
class Conversation:
    name: str
    file: Path
    line: int
    turns: Tuple[Turn, ...]

    @property
    def where(self) -> str:
        try:
            file = Path(self.file).resolve().relative_to(Path.cwd())
        except ValueError:
            file = self.file
        return f"{file}:{self.line}"


@dataclass
class _Reader:
    """Reads one file, collecting every problem with its line."""

    file: Path
    problems: List[str] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.file}:{line}: {message}")


def normalise(text: str) -> str:
    """For comparing what editors write with what the assistant says: case, curly
    quotes, dashes and runs of spaces do not matter."""
    text = unicodedata.normalize("NFKC", text)
    for curly, plain in (
        ("\u2018", "'"),
        ("\u2019", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2013", "-"),
        ("\u2014", "-"),
    ):
        text = text.replace(curly, plain)
    return " ".join(text.casefold().split())


def button_key(title: str) -> str:
    """A button title reduced to its words ('\N{THUMBS UP SIGN} Yes' -> 'yes')."""
    words = re.sub(r"[^\w:+'-]+", " ", normalise(title))
    return " ".join(words.split())


def load_scripts(paths: Iterable[Path]) -> List[Conversation]:
    """Every conversation in the given files and folders (*.yml, *.yaml, sorted).

    Raises ScriptError listing every problem found, each with its file and line.
    """
    files: List[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        elif path.exists():
            files.append(path)
        else:
            raise ScriptError([f"{path}: no such file or folder"])
    conversations: List[Conversation] = []
    problems: List[str] = []
    for file in files:
        reader = _Reader(file)
        conversations += _read_file(reader)
        problems += reader.problems
    if problems:
        raise ScriptError(problems)
    return conversations


def _line(node: Any, key: Any = None) -> int:
    """1-based line of a mapping key (or of the node itself)."""
    try:
        if key is not None and isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        return node.lc.line + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _read_file(reader: _Reader) -> List[Conversation]:
    try:
        data = YAML(typ="rt").load(reader.file.read_text(encoding="utf-8"))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reader.problem(mark.line + 1 if mark else 1, f"not valid YAML: {error.problem}")
        return []
    except UnicodeDecodeError:
        reader.problem(1, "not a UTF-8 text file")
        return []
    if not isinstance(data, CommentedMap) or "conversations" not in data:
        reader.problem(1, "a script starts with 'conversations:', followed by a list")
        return []
    for key in data:
        if key != "conversations":
            reader.problem(_line(data, key), f"unknown key '{key}' (only 'conversations' here)")
    items = data["conversations"]
    if not isinstance(items, CommentedSeq) or not items:
        reader.problem(_line(data, "conversations"), "'conversations' must be a list of conversations")
        return []
    conversations = []
    seen: Dict[str, int] = {}
    for item in items:
        conversation = _read_conversation(reader, item)
        if conversation is None:
            continue
        if conversation.name in seen:
            reader.problem(
                conversation.line,
                f"the name '{conversation.name}' is already used on line {seen[conversation.name]}",
            )
        seen[conversation.name] = conversation.line
        conversations.append(conversation)
    return conversations


def _read_conversation(reader: _Reader, item: Any) -> Optional[Conversation]:
    if not isinstance(item, CommentedMap):
        reader.problem(_line(item), "each conversation needs a 'name' and 'turns'")
        return None
    line = _line(item)
    for key in item:
        if key not in ("name", "turns"):
            reader.problem(_line(item, key), _unknown(key, ("name", "turns")))
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.problem(line, "the conversation needs a 'name' (a line of text)")
        name = None
    turns_node = item.get("turns")
    if not isinstance(turns_node, CommentedSeq) or not turns_node:
        reader.problem(
            _line(item, "turns") if "turns" in item else line, "'turns' must be a list with at least one turn"
        )
        return None
    read = [_read_turn(reader, node) for node in turns_node]
    turns = [turn for turn in read if turn is not None]
    if name is None or len(turns) < len(read):
        return None
    if turns[0].click is not None:
        reader.problem(
            turns[0].line,
            "the first turn cannot click a button: nothing has been offered yet",
        )
        return None
    return Conversation(name.strip(), reader.file, line, tuple(turns))


def _unknown(key: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; use one of: {', '.join(allowed)}"
    return f"unknown key '{key}'{hint}"


def _read_turn(reader: _Reader, node: Any) -> Optional[Turn]:
    if not isinstance(node, CommentedMap):
        reader.problem(
            _line(node),
            "each turn is a 'user:' message or a 'click:' button, with what the reply must contain",
        )
        return None
    line = _line(node)
    ok = True
    for key in node:
        if key not in TURN_KEYS:
            reader.problem(_line(node, key), _unknown(key, TURN_KEYS))
            ok = False
    said = [key for key in SAY_KEYS if key in node]
    if len(said) != 1:
        reader.problem(line, "a turn needs exactly one of 'user:' (a message) or 'click:' (a button title)")
        return None
    text = node[said[0]]
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)  # "user: 3" means the message "3"
    if not isinstance(text, str) or (said[0] == "click" and not text.strip()):
        reader.problem(_line(node, said[0]), f"'{said[0]}' must be text")
        return None

    def texts(key: str) -> Tuple[str, ...]:
        nonlocal ok
        if key not in node:
            return ()
        value = node[key]
        values = [value] if isinstance(value, (str, int, float)) else value
        if not isinstance(values, list) or not all(
            isinstance(v, (str, int, float)) and str(v).strip() for v in values
        ):
            reader.problem(_line(node, key), f"'{key}' must be a piece of text or a list of them")
            ok = False
            return ()
        return tuple(str(v) for v in values)

    says, not_says, matches = texts("says"), texts("not_says"), texts("matches")
    for pattern in matches:
        try:
            re.compile(pattern)
        except re.error as error:
            reader.problem(_line(node, "matches"), f"'{pattern}' is not a valid pattern: {error}")
            ok = False
    buttons: Optional[Tuple[str, ...]] = None
    if "buttons" in node:
        buttons = texts("buttons") if node["buttons"] != [] else ()
    verdict = _choice(reader, node, "verdict", VERDICTS)
    programme = _choice(reader, node, "programme", PROGRAMMES)
    if verdict is False or programme is False:
        ok = False
    if programme and not verdict:
        reader.problem(
            _line(node, "programme"), "'programme' checks the verdict's programme: give a 'verdict' too"
        )
        ok = False
    if not ok:
        return None
    return Turn(
        line=line,
        user=text if said[0] == "user" else None,
        click=text.strip() if said[0] == "click" else None,
        says=says,
        not_says=not_says,
        matches=matches,
        buttons=buttons,
        verdict=verdict or None,
        programme=programme or None,
    )


def _choice(reader: _Reader, node: CommentedMap, key: str, allowed: Sequence[str]) -> Any:
    if key not in node:
        return None
    if node[key] not in allowed:
        reader.problem(_line(node, key), f"'{key}' must be one of: {', '.join(allowed)}")
        return False
    return node[key]


# Checking a reply ----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the assistant sent back for one turn, gathered from its messages."""

    text: str
    buttons: Tuple[Dict[str, str], ...]
    assessments: Tuple[Dict[str, Any], ...]

    @classmethod
    def from_messages(cls, messages: Sequence[Dict[str, Any]]) -> "Reply":
        texts, buttons, assessments = [], [], []
        for message in messages:
            if message.get("text"):
                texts.append(str(message["text"]))
            for button in message.get("buttons") or []:
                buttons.append(
                    {"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))}
                )
            custom = message.get("custom")
            if isinstance(custom, dict) and isinstance(custom.get("assessment"), dict):
                assessments.append(custom["assessment"])
        return cls("\n\n".join(texts), tuple(buttons), tuple(assessments))

    def button_titles(self) -> List[str]:
        return [b["title"] for b in self.buttons]


@dataclass(frozen=True)
class Check:
    description: str
    passed: bool


def find_button(reply: Optional[Reply], title: str) -> Tuple[Optional[Dict[str, str]], str]:
    """The button a 'click:' names: same words, or the only title containing them."""
    if reply is None or not reply.buttons:
        return None, "the assistant's last reply offered no buttons"
    wanted = button_key(title)
    exact = [b for b in reply.buttons if button_key(b["title"]) == wanted]
    partial = [b for b in reply.buttons if wanted and wanted in button_key(b["title"])]
    if exact:
        return exact[0], ""
    if len(partial) == 1:
        return partial[0], ""
    offered = ", ".join(f'"{t}"' for t in reply.button_titles())
    if partial:
        return None, f'"{title}" matches more than one button ({offered})'
    return None, f'no button "{title}"; offered: {offered}'


def check_reply(turn: Turn, reply: Reply) -> List[Check]:
    """Each expectation of the turn, and whether the reply meets it."""
    text = normalise(reply.text)
    checks = [Check(f'says "{s}"', normalise(s) in text) for s in turn.says]
    checks += [Check(f'does not say "{s}"', normalise(s) not in text) for s in turn.not_says]
    checks += [
        Check(f"matches /{p}/", re.search(p, reply.text, re.IGNORECASE | re.DOTALL) is not None)
        for p in turn.matches
    ]
    if turn.buttons is not None:
        if not turn.buttons:
            checks.append(Check("offers no buttons", not reply.buttons))
        for title in turn.buttons:
            found, _ = find_button(reply, title)
            checks.append(Check(f'offers button "{title}"', found is not None))
    if turn.verdict:
        verdicts = [
            a
            for a in reply.assessments
            if a.get("verdict") == turn.verdict
            and (turn.programme is None or a.get("programme") == turn.programme)
        ]
        wanted = turn.verdict + (f" for the {turn.programme}" if turn.programme else "")
        checks.append(Check(f"verdict: {wanted}", bool(verdicts)))
    return checks
