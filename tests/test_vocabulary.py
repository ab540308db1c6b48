"""The shared names in careers/vocabulary.py are the ones the domain file and the rules
file use: a name changed in one place and not the other fails here."""

from __future__ import annotations

import re

from careers import vocabulary as v


def test_the_domain_file_declares_every_slot_form_and_intent_the_code_names(domain):
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert set(v.SPECIAL_INTENTS) <= intents, set(v.SPECIAL_INTENTS) - intents
    assert set(v.PROFILE_FACTS + v.CONVERSATION_SLOTS) <= set(domain["slots"])
    assert v.FORM in domain["forms"]


def test_the_rules_file_uses_the_vocabularys_programmes_and_degree_classes(rules):
    assert tuple(rules.programmes) == v.PROGRAMMES
    assert tuple(class_id for class_id, _ in rules.degree_classes) == v.DEGREE_CLASS_IDS


def test_every_verdict_has_a_label_a_mark_and_a_tone():
    for table in (v.VERDICT_LABELS, v.VERDICT_MARKS, v.VERDICT_TONES):
        assert tuple(table) == v.VERDICTS


def test_each_name_is_defined_once():
    """Two names for one value are allowed only where the vocabulary says why."""
    shared = {"medical", "not_decided"}  # a group and a category; a category and an outcome
    values: dict = {}
    for name, value in vars(v).items():
        if name.isupper() and isinstance(value, str):
            values.setdefault(value, []).append(name)
    doubled = {value: names for value, names in values.items() if len(names) > 1 and value not in shared}
    assert doubled == {}


def test_the_values_sent_and_read_keep_their_spelling(domain):
    """Slot values and payloads are a contract with the domain's buttons, the channels, the
    widget and the scripted conversations: a name may change, the value it holds may not."""
    assert v.VERDICTS == ("eligible", "possibly_eligible", "not_eligible")
    outcomes = (v.MET, v.NOT_MET, v.UNCLEAR, v.UNDECIDED, v.NOTE)
    assert outcomes == ("met", "not_met", "unclear", "not_decided", "note")
    assert (v.NONE_HELD, v.EQUIVALENT, v.UNKNOWN_SUBJECT) == ("none", "equivalent", "unknown")
    assert (v.ONESELF, v.SOMEONE_ELSE, v.REQUESTED_SLOT) == ("oneself", "someone_else", "requested_slot")
    payloads = [
        button["payload"]
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons", [])
    ]
    offered = {value for payload in payloads for value in re.findall(r'"degree_class":"(\w+)"', payload)}
    assert offered == set(v.DEGREE_CLASS_IDS) and v.NONE_HELD in offered


def test_a_subject_the_rules_file_does_not_list_is_of_no_category_it_lists(rules):
    assert rules.subject_category("basket weaving") == v.UNKNOWN_SUBJECT
    assert v.UNKNOWN_SUBJECT not in v.SUBJECT_CATEGORIES
