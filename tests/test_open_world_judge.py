"""The open-world evaluation's judge (tools/evaluation/open_world.py): what kind of reply
a turn was, from its stored events, and how it is scored against a set's label."""

from __future__ import annotations

import pytest

from tools.evaluation.open_world import SETS, declared_coverage, judge, load_items, reply_kinds
from tools.evaluation.outside_sample import draw, pool

DECLARED = declared_coverage()


def _bot(utter: str) -> dict:
    return {"event": "bot", "metadata": {"utter_action": utter}}


def test_reply_kinds_read_the_latest_turn_only():
    events = [
        {"event": "user"},
        _bot("utter_out_of_scope"),
        {"event": "user"},
        {"event": "slot", "name": "last_answer", "value": "not_covered:pay"},
        {"event": "slot", "name": "last_answer", "value": "applying:reapplying"},
        {"event": "active_loop", "name": "eligibility_form"},
        _bot("utter_emergency"),
    ]
    assert reply_kinds(events) == ["pointer:pay", "answer:applying:reapplying", "check_started", "emergency"]
    assert reply_kinds([{"event": "user"}]) == ["other"]


@pytest.mark.parametrize(
    "item, kinds, judged",
    [
        ({"expect": "answer", "facts": ["ask_skills"]}, ["answer:ask_skills"], "right_answer"),
        ({"expect": "answer", "facts": ["ask_skills"]}, ["answer:ask_leadership"], "wrong_topic"),
        ({"expect": "answer", "facts": ["ask_skills"]}, ["pointer:general"], "missed_answer"),
        # An answer from the applicant pages that declares the concept asked.
        ({"expect": "pointer", "concept": "reapplying"}, ["answer:applying:reapplying"], "right_answer"),
        ({"expect": "pointer", "concept": "pay"}, ["pointer:general"], "honest_pointer"),
        # What is not covered, said beside what the sources do say.
        (
            {"expect": "pointer", "concept": "x"},
            ["pointer:deferral", "answer:applying:after_offer"],
            "honest_pointer",
        ),
        # Naming the wrong uncovered thing is a wrong topic.
        ({"expect": "pointer", "concept": "pay"}, ["pointer:age"], "wrong_topic"),
        ({"expect": "decline"}, ["decline"], "decline"),
        ({"expect": "decline"}, ["emergency"], "acted"),
        ({"expect": "decline"}, ["check_started"], "acted"),
        ({"expect": "decline"}, ["pointer:general"], "wrong_topic"),
        ({"expect": "check"}, ["check_started"], "check"),
        ({"expect": "emergency"}, ["emergency"], "right_answer"),
        ({"expect": "emergency"}, ["decline"], "missed_emergency"),
        ({"expect": "privacy"}, ["privacy"], "right_answer"),
        ({"expect": "privacy"}, ["delete_asked"], "right_answer"),
        # Small talk with the assistant, answered in kind, is as right as declining...
        ({"expect": "decline", "label": "goodbye"}, ["other"], "small_talk"),
        # ... but not another errand, nor a reply that acts.
        ({"expect": "decline", "label": "cancel_reservation"}, ["other"], "other"),
        ({"expect": "decline", "label": "goodbye"}, ["cleared"], "acted"),
    ],
)
def test_judge(item, kinds, judged):
    assert judge(item, kinds, DECLARED) == judged


def test_the_committed_sets_load_with_their_labels():
    for name in ("real", "real2", "real3", "dev", "emergencies", "near_misses", "privacy"):
        items = load_items(name, SETS[name])
        assert items and all(item["expect"] for item in items), name
    real = load_items("real", SETS["real"])
    assert len(real) >= 120 and len({item["url"] for item in real}) >= 30


def test_a_request_with_quotes_is_one_request(tmp_path):
    # CLINC150 has requests with quotation marks; a TSV reader that honours quotes merges lines.
    path = tmp_path / "outside.tsv"
    path.write_text('# a header\nsay "hi" to mum\ttext\nwhat\'s the "best" pizza\toos\n', encoding="utf-8")
    items = load_items("outside", path)
    assert [i["text"] for i in items] == ['say "hi" to mum', 'what\'s the "best" pizza']
    assert [i["label"] for i in items] == ["text", "oos"]


def test_the_outside_sets_are_drawn_the_same_way_every_time_and_apart():
    data = {
        "test": [[f"request {i}", "intent"] for i in range(2000)],
        "oos_test": [["request 1", "oos"], ["another\twith a tab", "oos"]],
        "val": [["held back", "intent"]],
        "oos_val": [],
    }
    requests = pool(data)
    assert len(requests) == 2001  # the repeat left out
    assert ("another with a tab", "oos") in requests  # a tab would split the line
    first, again = draw(requests), draw(requests)
    assert first == again
    (_, outside, _), (_, dev, _) = first
    assert len(outside) == 1200 and len(dev) == 300 and not set(outside) & set(dev)
    assert pool(data, ("val", "oos_val")) == [("held back", "intent")]


def test_the_realistic_sets_count_an_answer_said_after_what_it_leaves_out_as_that_answer():
    from tools.evaluation.evaluate_realistic import outcome

    said = [
        {"event": "user", "parse_data": {"intent": {"name": "ask_not_covered"}}},
        {"event": "slot", "name": "last_answer", "value": "not_covered:general"},
        {"event": "slot", "name": "last_answer", "value": "ask_stp_programme"},
    ]
    assert outcome(said) == ("ask_not_covered", "ask_stp_programme")
    assert outcome(said[:2]) == ("ask_not_covered", "ask_not_covered")
