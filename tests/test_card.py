"""The verdict card (channels/card.py), built once from the assessment payload: its
structure from the payloads the action server sends, the links' labels, sections
left out, and Slack's blocks and Teams' card drawn from the same card. Pure: no
model, no server."""

from __future__ import annotations

import html
import json
import re
from typing import Any, Dict, List, Tuple

import pytest

from careers.answers import assessment_payload, verdict_values
from careers.engine import assess
from careers.vocabulary import VERDICT_LABELS, VERDICT_MARKS, VERDICT_TONES, VERDICTS
from channels import card
from channels.card import link, link_label, summary_of, verdict_card, with_card
from channels.slack import slack_message
from channels.teams import teams_message

STP = {"programme": "STP"}
PROFILES = {
    "eligible": {**STP, "degree_class": "first", "degree_subject": "physics"},
    "possibly_eligible": {
        **STP,
        "degree_class": "upper_second",
        "degree_subject": "chemistry",
        "higher_degree": "none",
    },
    "not_eligible": {**STP, "degree_class": "third", "degree_subject": "physics", "higher_degree": "none"},
}

# A payload with everything a card has to handle: markup-like text, a step that is a
# titled link, sources repeated, titled, over http and not web addresses at all.
AWKWARD = {
    "programme": "STP",
    "programme_name": "Scientist Training Programme (STP)",
    "verdict": "possibly_eligible",
    "verdict_label": "Possibly eligible",
    "verdict_mark": "?",
    "verdict_tone": "caution",
    "reasons": ["Your degree is a 2:1 & <in chemistry>.", "  ", 7, "The school decides *case by case*."],
    "next_steps": ["Ask the school: https://nshcs.hee.nhs.uk/contact-us/", "Read the person specification."],
    "sources": [
        "https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/entry-requirements/",
        "https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/entry-requirements/",
        "Entry FAQs: https://nshcs.hee.nhs.uk/faqs/entry-requirements-faqs/",
        "http://insecure.example/page",
        "javascript:alert(1)",
        "not an address",
        "https://www.qaa.ac.uk/docs/qaa/quality-code/qualifications-frameworks.pdf",
    ],
    "rules": ["stp_degree"],
}
AWKWARD_TEXT = (
    "What I understood: a 2:1 in chemistry\n(tell me if I got any of it wrong).\n\n"
    "From what you've told me, you may be eligible.\n\n"
    "Why:\n- Your degree is a 2:1.\n\nSources:\nhttps://www.nshcs.hee.nhs.uk/"
)


def _payload_and_text(rules, domain, verdict: str) -> Tuple[Dict[str, Any], str]:
    """The assessment payload and verdict text the assistant sends for `verdict`."""
    assessment = assess(rules, PROFILES[verdict])
    payload = assessment_payload(rules, assessment, PROFILES[verdict])["assessment"]
    template = domain["responses"][f"utter_verdict_{verdict}"][-1]["text"]
    return payload, template.format(**verdict_values(rules, assessment, PROFILES[verdict]))


@pytest.mark.parametrize("verdict", VERDICTS)
def test_the_card_of_each_verdict_the_assistant_gives(rules, domain, verdict):
    payload, text = _payload_and_text(rules, domain, verdict)
    built = verdict_card(payload, text)
    assert built is not None
    assert json.loads(json.dumps(built)) == built  # plain JSON, as the widget gets it
    assert built[card.PROGRAMME] == "NHS Scientist Training Programme (STP)"
    assert built[card.KICKER] == "Eligibility check: NHS Scientist Training Programme (STP)"
    assert (built[card.LABEL], built[card.MARK], built[card.TONE]) == (
        VERDICT_LABELS[verdict],
        VERDICT_MARKS[verdict],
        VERDICT_TONES[verdict],
    )
    # The text's opening paragraphs; what follows them is what the sections show.
    [understood, verdict_said] = built[card.SUMMARY]
    assert understood.startswith("What I understood: ") and "\n" not in understood
    assert verdict_said.startswith("From what you've told me, ")
    sections = {s[card.HEADING]: s[card.ITEMS] for s in built[card.SECTIONS]}
    assert [s[card.HEADING] for s in built[card.SECTIONS]] == list(card.HEADINGS)
    assert [i[card.TEXT] for i in sections[card.WHY]] == payload["reasons"]
    assert [i[card.TEXT] for i in sections[card.WHAT_NEXT]] == payload["next_steps"]
    # Every source once, as a link with a short title and no address showing.
    assert [i[card.URL] for i in sections[card.SOURCES]] == list(dict.fromkeys(payload["sources"]))
    for item in sections[card.SOURCES]:
        assert "://" not in item[card.TITLE] and 0 < len(item[card.TITLE]) <= 90, item


def test_a_card_from_an_awkward_payload():
    built = verdict_card(AWKWARD, AWKWARD_TEXT)
    assert built == {
        card.KICKER: "Eligibility check: Scientist Training Programme (STP)",
        card.PROGRAMME: "Scientist Training Programme (STP)",
        card.LABEL: "Possibly eligible",
        card.MARK: "?",
        card.TONE: "caution",
        card.SUMMARY: [
            "What I understood: a 2:1 in chemistry (tell me if I got any of it wrong).",
            "From what you've told me, you may be eligible.",
        ],
        card.SECTIONS: [
            {
                card.HEADING: card.WHY,
                card.ITEMS: [
                    {card.TEXT: "Your degree is a 2:1 & <in chemistry>."},
                    {card.TEXT: "The school decides *case by case*."},
                ],
            },
            {
                card.HEADING: card.WHAT_NEXT,
                card.ITEMS: [
                    {card.TITLE: "Ask the school", card.URL: "https://nshcs.hee.nhs.uk/contact-us/"},
                    {card.TEXT: "Read the person specification."},
                ],
            },
            {
                card.HEADING: card.SOURCES,
                card.ITEMS: [
                    {
                        card.TITLE: "nshcs.hee.nhs.uk: entry requirements",
                        card.URL: "https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/entry-requirements/",
                    },
                    {
                        card.TITLE: "Entry FAQs",
                        card.URL: "https://nshcs.hee.nhs.uk/faqs/entry-requirements-faqs/",
                    },
                    {
                        card.TITLE: "qaa.ac.uk: qualifications frameworks",
                        card.URL: "https://www.qaa.ac.uk/docs/qaa/quality-code/qualifications-frameworks.pdf",
                    },
                ],
            },
        ],
    }


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            "https://www.healthcareers.nhs.uk/i-am/looking-course",
            ("healthcareers.nhs.uk: looking course", None),
        ),
        ("https://nshcs.hee.nhs.uk/", ("nshcs.hee.nhs.uk", None)),
        ("https://WWW.Example.org", ("example.org", None)),
        (
            "https://x.example/docs/Entry_Requirements%20(2025).PDF",
            ("x.example: Entry Requirements (2025)", None),
        ),
        ("https://x.example/a/b?page=2#top", ("x.example: b", None)),
        # Punctuation after an address is the sentence's.
        ("https://x.example/apply.", ("x.example: apply", "https://x.example/apply")),
        ("NSHCS: https://nshcs.hee.nhs.uk/join/", ("NSHCS", None)),
        (
            "  The QAA's frameworks:   https://www.qaa.ac.uk/f.pdf  ",
            ("The QAA's frameworks", "https://www.qaa.ac.uk/f.pdf"),
        ),
    ],
)
def test_a_link_is_shown_by_its_title_or_a_short_name(line, expected):
    title, url = expected
    found = link(line)
    assert found is not None
    assert found[card.TITLE] == title
    assert found[card.URL] == (url or line.split(": ")[-1].strip())


@pytest.mark.parametrize(
    "line",
    [
        "http://x.example/page",  # only https
        "Title: http://x.example/page",
        "javascript:alert(1)",
        "mailto:someone@example.org",
        "https://",
        "https://[broken/",
        "see https://x.example/page for more",  # prose with an address is text, not a link
        "https://x.example/a|b",  # | and > would end Slack's <url|title>
        "https://x.example/<b>",
        "A title: with a colon: https://x.example/",
        "",
    ],
)
def test_only_a_line_that_is_an_https_address_is_a_link(line):
    assert link(line) is None


def test_the_label_of_an_address_is_its_site_and_the_last_part_of_its_path():
    assert link_label("https://www.nshcs.hee.nhs.uk/programmes/stp/") == "nshcs.hee.nhs.uk: stp"
    assert link_label("https://nshcs.hee.nhs.uk/--/") == "nshcs.hee.nhs.uk"


def test_sections_with_nothing_in_them_are_left_out():
    only_sources = verdict_card({"verdict": "eligible", "reasons": [], "sources": ["https://x.example/s"]})
    assert only_sources is not None
    assert [s[card.HEADING] for s in only_sources[card.SECTIONS]] == [card.SOURCES]
    no_links = verdict_card(
        {"verdict": "eligible", "next_steps": ["Apply."], "sources": ["http://x", "javascript:x"]}
    )
    assert no_links is not None
    assert [s[card.HEADING] for s in no_links[card.SECTIONS]] == [card.WHAT_NEXT]
    bare = verdict_card({"verdict": "eligible", "reasons": "not a list", "sources": None})
    assert bare is not None and bare[card.SECTIONS] == []


def test_a_payload_without_a_label_tone_or_programme_still_makes_a_card():
    built = verdict_card({"verdict": "not_eligible", "verdict_tone": 'bad" onclick="x', "verdict_mark": 3})
    assert built is not None
    assert built[card.LABEL] == "Not eligible"
    assert built[card.MARK] == ""
    assert built[card.TONE] == card.NEUTRAL
    assert built[card.KICKER] == card.CHECK and built[card.PROGRAMME] == ""
    assert built[card.SUMMARY] == []
    assert verdict_card({"verdict": "x", "programme": "PTP"})[card.KICKER] == "Eligibility check: PTP"


@pytest.mark.parametrize(
    "assessment",
    [None, "eligible", ["eligible"], {}, {"verdict": None}, {"verdict": "<b>eligible</b>"}, {"verdict": ""}],
)
def test_no_card_without_a_verdict_name(assessment):
    assert verdict_card(assessment, "Some text.") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Not enough.", ["Not enough."]),
        ("One\nline.\n\nTwo.\n\nWhy:\n- a", ["One line.", "Two."]),
        ("- a list first\n\nThen text.", []),
        ("Sources:\nhttps://x.example", []),
        ("", []),
        ("\n\n  \n\nAfter blank lines.", ["After blank lines."]),
    ],
)
def test_the_summary_is_the_texts_opening_paragraphs(text, expected):
    assert summary_of(text) == expected


def test_the_web_channels_send_the_card_beside_the_assessment():
    custom = {"assessment": dict(AWKWARD), "other": 1}
    sent = with_card(custom, AWKWARD_TEXT)
    assert sent == {**custom, card.CARD: verdict_card(AWKWARD, AWKWARD_TEXT)}
    assert card.CARD not in custom  # the message Rasa keeps is not changed
    assert with_card({"conversation_deleted": True}) == {"conversation_deleted": True}
    assert with_card({"assessment": {"verdict": None}}) == {"assessment": {"verdict": None}}


# -- Slack and Teams draw the same card --------------------------------------------


def _item_of_markup(line: str, link_markup: "re.Pattern[str]") -> Dict[str, str]:
    found = link_markup.fullmatch(line)
    if found:
        return {card.TITLE: found.group("title"), card.URL: found.group("url")}
    return {card.TEXT: line}


SLACK_LINK = re.compile(r"<(?P<url>https://[^|>]+)\|(?P<title>[^>]*)>")


def slack_card(post: Dict[str, Any]) -> Dict[str, Any]:
    """What a Slack verdict shows: kicker, headline, summary, sections."""
    blocks = post["blocks"]
    shown: Dict[str, Any] = {
        "kicker": html.unescape(blocks[0]["elements"][0]["text"]),
        "headline": blocks[1]["text"]["text"],
        "summary": [],
        "sections": [],
    }
    for block in blocks[2:]:
        if block["type"] != "section":
            continue
        for line in block["text"]["text"].split("\n"):
            heading = re.fullmatch(r"\*(.+)\*", line)
            if heading:
                shown["sections"].append({card.HEADING: heading.group(1), card.ITEMS: []})
            elif shown["sections"]:
                item = _item_of_markup(line.removeprefix("• "), SLACK_LINK)
                item = {k: html.unescape(v) for k, v in item.items()}
                shown["sections"][-1][card.ITEMS].append(item)
            else:
                shown["summary"].append(html.unescape(line))
    return shown


TEAMS_LINK = re.compile(r"\[(?P<title>(?:[^\]\\]|\\.)*)\]\((?P<url>https://[^)\s]+)\)")


def teams_card(activity: Dict[str, Any]) -> Dict[str, Any]:
    """What a Teams verdict shows: kicker, headline, summary, sections."""
    body: List[Dict[str, Any]] = activity["attachments"][0]["content"]["body"]
    shown: Dict[str, Any] = {
        "kicker": body[0]["text"],
        "headline": body[1]["text"],
        "summary": [],
        "sections": [],
    }
    for block in body[2:]:
        if block.get("weight") == "Bolder":
            shown["sections"].append({card.HEADING: block["text"], card.ITEMS: []})
        elif shown["sections"]:
            item = _item_of_markup(block["text"].removeprefix("• "), TEAMS_LINK)
            if card.TITLE in item:
                item[card.TITLE] = re.sub(r"\\(.)", r"\1", item[card.TITLE])
            shown["sections"][-1][card.ITEMS].append(item)
        else:
            shown["summary"].append(block["text"])
    return shown


@pytest.mark.parametrize("which", ["awkward", *VERDICTS])
def test_slack_and_teams_draw_the_same_card(rules, domain, which):
    if which == "awkward":
        payload, text = AWKWARD, AWKWARD_TEXT
    else:
        payload, text = _payload_and_text(rules, domain, which)
    built = verdict_card(payload, text)
    assert built is not None
    expected = {
        "kicker": built[card.KICKER],
        "headline": f"{built[card.MARK]} {built[card.LABEL]}",
        "summary": built[card.SUMMARY],
        "sections": built[card.SECTIONS],
    }
    message = {"text": text, "custom": {"assessment": payload}}
    slack = slack_card(slack_message(dict(message)) or {})
    teams = teams_card(teams_message(dict(message)) or {})
    assert slack == expected
    assert teams == expected
    assert [s[card.HEADING] for s in slack["sections"]] == [s[card.HEADING] for s in teams["sections"]]
