"""The eligibility verdict as one card: what every channel shows of a verdict, built
once here from the `custom.assessment` payload and the verdict's text, so Slack
(Block Kit), Teams (an Adaptive Card) and the web widget only draw it and cannot
drift apart in what they say.

The card is plain JSON (the web channels send it to the widget as `custom.card`):

    {
      "kicker": "Eligibility check: Scientist Training Programme (STP)",
      "programme": "Scientist Training Programme (STP)",   # "" if the payload names none
      "label": "Eligible", "mark": "✓", "tone": "good",    # tone: a name, else "neutral"
      "summary": ["What I understood: ...", "From what you've told me, ..."],
      "sections": [
        {"heading": "Why", "items": [{"text": "You have a 2:1 ..."}]},
        {"heading": "What next", "items": [{"text": "Apply when ..."}]},
        {"heading": "Sources", "items": [{"title": "nshcs.hee.nhs.uk: entry requirements",
                                          "url": "https://nshcs.hee.nhs.uk/..."}]},
      ],
    }

An item is text ({text}) or a labelled link ({title, url}); Sources holds links only,
each address once. A section with no items is left out. The summary is the text's
opening paragraphs, before its first heading ("Why:") or list: the rest of the text
is what the sections show. Only https addresses become links, and a link is shown
by a title, never its address: a line "Title: https://..." by its title, a bare
address by a short name (its site and the last part of its path).

The channels know nothing of the domain: this reads the payload's keys as the
action server sends them (careers/answers.py, assessment_payload) and imports none
of it.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Text
from urllib.parse import unquote, urlsplit

# The key of the verdict's payload in a bot message's `custom`, and of its card
# beside it in what the web channels send.
ASSESSMENT = "assessment"
CARD = "card"

# The card's keys.
KICKER = "kicker"
PROGRAMME = "programme"
LABEL = "label"
MARK = "mark"
TONE = "tone"
SUMMARY = "summary"
SECTIONS = "sections"
HEADING = "heading"
ITEMS = "items"
TEXT = "text"
TITLE = "title"
URL = "url"

# The sections' headings, in the order they are shown.
WHY = "Why"
WHAT_NEXT = "What next"
SOURCES = "Sources"
HEADINGS = (WHY, WHAT_NEXT, SOURCES)

# What the card is: the line above the verdict.
CHECK = "Eligibility check"
# The tone of a payload that names none usable (the widget styles "neutral" plainly).
NEUTRAL = "neutral"

# A payload value that is a usable name: a short string of letters, digits and _.
_NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")
# An https address that every channel's link markup can hold: Slack's <url|title>
# and Teams' [title](url) end at |, > and whitespace.
_ADDRESS = re.compile(r"^https://[^\s<>\"'`|\\]+$")
# Punctuation after an address in prose is the sentence's, not the address's.
_TRAILING = re.compile(r"[.,;:!?)\]}'\"]+$")
# A line that is only "Title: https://..." names its page.
_TITLED = re.compile(r"^\s*([^:\n]{2,120}?):\s+(https://\S+)\s*$")
# A paragraph that opens a section ("Why:") or a list ends the summary.
_BULLET = re.compile(r"^\s*[-•]\s+")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _text(value: Any) -> Text:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: Any) -> List[Text]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def https_address(value: Text) -> Optional[Text]:
    """`value` as a link's address: an https URL naming a host, without punctuation
    that follows it in prose; None for anything else (http, javascript:, mailto: ...)."""
    address = _TRAILING.sub("", value.strip())
    if not _ADDRESS.match(address):
        return None
    try:
        host = urlsplit(address).hostname
    except ValueError:  # a malformed host, such as an unclosed [
        return None
    return address if host else None


def link_label(address: Text) -> Text:
    """A short readable name for an address: its site and the last part of its path
    ("nshcs.hee.nhs.uk: entry requirements"), as addresses run to 170 characters."""
    parts = urlsplit(address)
    site = (parts.hostname or "").removeprefix("www.")
    last = next((part for part in reversed(parts.path.split("/")) if part), "")
    words = re.sub(r"[-_]+", " ", re.sub(r"\.[a-z]+$", "", unquote(last), flags=re.I)).strip()
    return f"{site}: {words}" if words else site


def link(line: Text) -> Optional[Dict[Text, Text]]:
    """A line that is only a link, as {title, url}: "Title: https://..." shows its
    title, a bare address its link_label; None if the line is anything else."""
    titled = _TITLED.match(line)
    if titled:
        address = https_address(titled.group(2))
        return {TITLE: titled.group(1).strip(), URL: address} if address else None
    address = https_address(line)
    return {TITLE: link_label(address), URL: address} if address else None


def summary_of(text: Text) -> List[Text]:
    """The text's opening paragraphs ("What I understood: ...", "From what you've
    told me, ..."), each on one line: those before the first that opens a section
    ("Why:") or a list."""
    kept = []
    for paragraph in _PARAGRAPHS.split(text or ""):
        first = paragraph.strip().split("\n")[0]
        if first.rstrip().endswith(":") or _BULLET.match(paragraph):
            break
        if paragraph.strip():
            kept.append(re.sub(r"\s*\n\s*", " ", paragraph.strip()))
    return kept


def _items(lines: List[Text]) -> List[Dict[Text, Text]]:
    """Reasons or next steps: text, or a link where a line is only one."""
    return [link(line) or {TEXT: line} for line in lines]


def _sources(lines: List[Text]) -> List[Dict[Text, Text]]:
    """The sources as links, each address once; a line that is no https link is left out."""
    found: Dict[Text, Dict[Text, Text]] = {}
    for line in lines:
        item = link(line)
        if item is not None and item[URL] not in found:
            found[item[URL]] = item
    return list(found.values())


def verdict_card(assessment: Any, text: Text = "") -> Optional[Dict[Text, Any]]:
    """The card of an eligibility verdict (module docstring), from its assessment
    payload and the verdict's text; None if the payload is not one (no verdict name)."""
    if not isinstance(assessment, Mapping):
        return None
    verdict = assessment.get("verdict")
    if not isinstance(verdict, str) or not _NAME.match(verdict):
        return None
    # The payload says how to show the verdict and programme; one without a label
    # (kept in a history from an older version) shows its verdict name in words.
    label = _text(assessment.get("verdict_label"))
    if not label:
        words = verdict.replace("_", " ").strip()
        label = words[:1].upper() + words[1:]
    tone = _text(assessment.get("verdict_tone"))
    programme = _text(assessment.get("programme_name")) or _text(assessment.get("programme"))
    sections = [
        {HEADING: heading, ITEMS: items}
        for heading, items in (
            (WHY, _items(_strings(assessment.get("reasons")))),
            (WHAT_NEXT, _items(_strings(assessment.get("next_steps")))),
            (SOURCES, _sources(_strings(assessment.get("sources")))),
        )
        if items
    ]
    return {
        KICKER: f"{CHECK}: {programme}" if programme else CHECK,
        PROGRAMME: programme,
        LABEL: label,
        MARK: _text(assessment.get("verdict_mark")),
        TONE: tone if _NAME.match(tone) else NEUTRAL,
        SUMMARY: summary_of(text),
        SECTIONS: sections,
    }


def card_of(custom: Any, text: Text = "") -> Optional[Dict[Text, Any]]:
    """The card of a bot message's `custom` payload, if it holds a verdict."""
    return verdict_card(custom.get(ASSESSMENT), text) if isinstance(custom, Mapping) else None


def with_card(custom: Dict[Text, Any], text: Text = "") -> Dict[Text, Any]:
    """`custom` with its verdict's card beside the assessment (kept for other tools),
    as the web channels send it to the widget; unchanged if it holds no verdict."""
    card = card_of(custom, text)
    return {**custom, CARD: card} if card is not None else custom
