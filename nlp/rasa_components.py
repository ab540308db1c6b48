"""Rasa NLU components that wrap the spaCy pipeline built by `nlp/build_pipeline.py`.

- `MessageGuard` goes first: it removes markup tags (so "<b>hi</b>" reads
  as "hi") and cuts what reaches the rest of the pipeline to `max_characters`,
  because DIET's transformer grows quadratically with message length (one
  100,000-character message took 16 s and 8 GB with Rasa's defaults).
- `CareersEntityExtractor` returns the entity ruler's matches with the canonical
  value (the pattern's `id`), adds single-word matches with one typo ("frist",
  "chemstry", "phsyics"), and drops matches whose context shows they are not
  what they look like ("my first degree", "for nursing").
- `NotCoveredCues` goes after the intent classifier: a question that names
  something the sources do not cover (pay, visas, deadlines: the keywords of
  `not_covered` in the rules file), on which the classifier hesitates between a
  covered topic and "not covered", is taken as "not covered". An answer about
  something else would mislead; "my sources don't cover that" does not.
- `EligibilityCues` goes after the intent classifier: "I'm an F1 doctor with an
  MBBS. Can I apply for the STP?" states the person's own qualifications and asks
  whether they can apply, so it is an eligibility check, not the general question
  about medical degrees its words resemble.
- `OpenWorld` goes after the intent classifier: the classifier's guess stands only
  when the message has the words that ask for it (dialogue/questions.py); replies that
  act (the emergency reply, clearing, deleting, a check) need explicit words.
- `SafetyCues` goes after the intent classifier: a message that says someone's life
  may be at risk ("I want to kill myself", "he's not breathing": nlp/emergencies.py)
  always gets the emergency reply, whatever the classifier thought; a careers question
  never needs words like these.
- `ControlPhrases` goes after the intent classifier: a message that is only
  "stop", "cancel", "start again" and the like always means that, whatever the
  classifier thought, so a person can always get out of a check.
- `LongMessageFallback` goes last: a cut message is answered by the fallback
  action, which tells the person it was too long to read in full.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from careers.vocabulary import (
    CHECK_INTENT,
    FALLBACK_INTENT,
    NOT_COVERED_INTENT,
    OUT_OF_SCOPE_INTENT,
    PRIVACY_INTENT,
)
from nlp.message_limits import CUT_FROM_CHARACTERS, MAX_MESSAGE_CHARACTERS

ORIGINAL_LENGTH = "original_length"
CHARACTERS_READ = "characters_read"
TRUNCATED = "truncated"

# Real words that are one letter away from a pattern word, and not typos of it.
_NOT_TYPOS = {
    "higher",
    "highest",
    "bachelor",
    "master",
    "masters",
    "medics",
    "levels",
    "oversees",
    "finishes",
    "advances",
    "fiance",
    "fiancee",
    "finances",
}
# "first" and "third" are degree classes only in some contexts.
_CLASS_WORDS = {"first", "third", "1st", "3rd", "firsts"}
_CLASS_BEFORE = {
    "a",
    "an",
    "got",
    "get",
    "getting",
    "with",
    "achieved",
    "predicted",
    "expecting",
    "expect",
    "expected",
    "'s",
    "is",
    "was",
    "for",
    "graduated",
    "awarded",
    "take",
    "takes",
    "accept",
    "accepts",
    "need",
    "needs",
    "require",
    "requires",
}
_CLASS_AFTER = {"class", "-", "honours", "hons", "in", "from", "at", "degree"}
_NOT_CLASS_AFTER = {"year", "time", "job", "step", "place", "language", "name", "of"}
# "March 1st to 3rd" is a date, not a degree class.
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_COUNTABLE = {"a_level", "gcse"}
# The career's own name is a subject only when it is what someone studied.
_CAREER_SUBJECTS = {"clinical engineering"}
_STUDIED_BEFORE = {"studied", "study", "studying", "did", "doing"}
_DEGREE_WORDS = {
    "degree",
    "msc",
    "masters",
    "master's",
    "bsc",
    "beng",
    "meng",
    "phd",
    "mres",
    "mphil",
    "pgdip",
    "pgcert",
    "course",
    "ba",
    "ma",
    "diploma",
    "certificate",
}
# "for nursing", "into radiography", "student finance": a career or a thing, not a subject.
_NOT_STUDIED_BEFORE = {"for", "into", "student"}
_SHORT_ANSWER_TOKENS = 3
_MARKUP = re.compile(r"<[^<>]{0,200}>")


class ConfiguredComponent(GraphComponent):
    """A component with nothing to train or store: made from its config alone, and it
    leaves the training data as it is."""

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        """Subclasses read what they need from `config`; this one needs nothing."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MessageGuard(ConfiguredComponent):
    """Cuts over-long messages before any other component sees them."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_characters": MAX_MESSAGE_CHARACTERS}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._limit = int(config["max_characters"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            metadata = message.get(METADATA) or {}
            cut_from = metadata.get(CUT_FROM_CHARACTERS) if isinstance(metadata, dict) else None
            if isinstance(cut_from, int) and cut_from > len(text):
                # Cut by the channel before it was stored (channels/limits.py).
                message.set(TEXT, text[: self._limit])
                message.set(ORIGINAL_LENGTH, cut_from, add_to_output=True)
                message.set(CHARACTERS_READ, min(len(text), self._limit), add_to_output=True)
                message.set(TRUNCATED, True, add_to_output=True)
            elif len(text) > self._limit:
                # Checked before tag removal so that the regex never sees huge input.
                message.set(TEXT, text[: self._limit])
                message.set(ORIGINAL_LENGTH, len(text), add_to_output=True)
                message.set(CHARACTERS_READ, self._limit, add_to_output=True)
                message.set(TRUNCATED, True, add_to_output=True)
            elif "<" in text:
                message.set(TEXT, " ".join(_MARKUP.sub(" ", text).split()))
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=False,
    model_from="SpacyNLP",
)
class CareersEntityExtractor(SpacyEntityExtractor):
    """spaCy entity-ruler matches with canonical values and context checks."""

    def process(self, messages: List[Message], model: Any) -> List[Message]:
        for message in messages:
            doc = model.model(message.get(TEXT) or "")
            doc.ents = with_typos_read(doc, model.model)
            found = self.add_extractor_name(self._extract_entities(doc))
            dimensions = self._config["dimensions"]
            kept = self.filter_irrelevant_entities(found, dimensions)
            message.set(ENTITIES, message.get(ENTITIES, []) + kept, add_to_output=True)
        return messages

    @staticmethod
    def _extract_entities(doc: Any) -> List[Dict[Text, Any]]:
        ents = list(doc.ents)
        return [
            {
                "entity": ent.label_,
                "value": ent.ent_id_ or ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "confidence": None,
            }
            for ent in ents
            if _plausible(doc, ent, ents)
        ]


_MIN_TYPO_LENGTH = 5
# From this length a wrong letter is a typo too ("engeneering"); shorter words one
# letter apart are often other words ("matter" is not "master").
_MIN_SUBSTITUTION_LENGTH = 8
_SPELLED_INSIDE = {"subject", "qualification"}
# Short forms of "and" inside a name: "electrical n electronic engineering".
_AND_FORMS = {"n", "&", "an'", "'n'"}
_vocabularies: Dict[int, Dict[str, Any]] = {}


def _vocabulary(nlp: Any) -> Dict[str, Any]:
    """The words of the entity ruler's text patterns, with their one-letter-short forms
    and, for long words, their forms with one letter left open."""
    key = id(nlp)
    if key not in _vocabularies:
        words: Dict[str, str] = {}  # each word, and the word it stands for
        misspelt: Dict[str, str] = {}
        patterns = [p for p in nlp.get_pipe("entity_ruler").patterns if isinstance(p["pattern"], str)]
        for pattern in patterns:
            phrase = pattern["pattern"].lower()
            # Words inside longer names only where the names are subjects or qualifications:
            # the stage and origin patterns hold everyday words ("still", "oversees").
            if len(phrase.split()) == 1 or pattern["label"] in _SPELLED_INSIDE:
                for word in phrase.split():
                    if word.isalpha() and len(word) >= _MIN_TYPO_LENGTH:
                        words[word] = word
            meaning = str(pattern.get("id", phrase)).lower()
            if (
                phrase.isalpha()
                and meaning.isalpha()
                and meaning != phrase
                and len(phrase) >= _MIN_TYPO_LENGTH
                and phrase[0] == meaning[0]
                and abs(len(phrase) - len(meaning)) <= 2
            ):
                misspelt[phrase] = meaning  # "enginering": a misspelling listed as a pattern
                # (not a short form that means something else: "beng" is a bachelor's)
        # Every word of every pattern is a word the ruler knows, never a typo of another
        # ("university" is no misspelt "universiti").
        known = {w for p in patterns for w in p["pattern"].lower().split()}
        named = {
            w
            for p in patterns
            if p["label"] in _SPELLED_INSIDE
            for w in p["pattern"].lower().split()
            if w in words
        }
        canonical = {w for p in patterns for w in str(p.get("id", "")).lower().split()}
        for word, meaning in misspelt.items():
            if word not in canonical and meaning in words:
                words[word] = meaning  # (not "electronic", a word of "electronic engineering")
        shortened: Dict[str, set] = {}
        opened: Dict[str, set] = {}
        for word in words:
            for variant in _deletions(word):
                shortened.setdefault(variant, set()).add(word)
            if len(word) >= _MIN_SUBSTITUTION_LENGTH and word in named:
                for variant in _openings(word):
                    opened.setdefault(variant, set()).add(word)
        _vocabularies[key] = {"words": words, "known": known, "shortened": shortened, "opened": opened}
    return _vocabularies[key]


def _deletions(word: str) -> set:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _transpositions(word: str) -> set:
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}


def _openings(word: str) -> set:
    return {word[:i] + "?" + word[i + 1 :] for i in range(len(word))}


def _may_be_typo(text: str, vocabulary: Dict[str, Any], shortest: int) -> bool:
    """A word the ruler does not know, long enough to be taken for a typo of one it does."""
    return (
        text.isalpha()
        and len(text) >= shortest
        and text not in vocabulary["known"]
        and text not in _NOT_TYPOS
    )


def _one_meaning(candidates: set, vocabulary: Dict[str, Any]) -> Optional[str]:
    """The word the candidates stand for, if they all stand for the same one."""
    meanings = {vocabulary["words"][w] for w in candidates}
    return meanings.pop() if len(meanings) == 1 else None


def _spelled(text: str, vocabulary: Dict[str, Any]) -> Optional[str]:
    """The one pattern word `text` is a single typo of, if there is exactly one: a
    letter too many or too few, or two letters swapped."""
    if not _may_be_typo(text, vocabulary, _MIN_TYPO_LENGTH):
        return None
    candidates = {w for w in (_deletions(text) | _transpositions(text)) if w in vocabulary["words"]}
    return _one_meaning(candidates | vocabulary["shortened"].get(text, set()), vocabulary)


def _one_letter_wrong(text: str, vocabulary: Dict[str, Any]) -> Optional[str]:
    """The one subject or qualification word a long word is one wrong letter from
    ("engeneering"). Only trusted inside a longer name, as many real words are one
    letter from a subject's ("competing", "computing")."""
    if not _may_be_typo(text, vocabulary, _MIN_SUBSTITUTION_LENGTH):
        return None
    candidates = set()
    for variant in _openings(text):
        candidates |= vocabulary["opened"].get(variant, set())
    return _one_meaning(candidates, vocabulary)


def with_typos_read(doc: Any, nlp: Any) -> List[Any]:
    """The entities of `doc`, plus those found once its typos are put right.

    The words are corrected one for one, so the entity ruler runs again on a
    document with the same tokens, and what it finds there maps straight back
    onto the message as written. A name found this way replaces the shorter
    matches inside it ("electrical n electronic engeneering" is one subject)."""
    from spacy.tokens import Doc, Span

    vocabulary = _vocabulary(nlp)
    covered = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    # A word the ruler already read alone is read as what it stands for, so that two
    # typos side by side still make one name ("Biomedcal Engneering").
    meaning_of = vocabulary["words"]
    standing_for = {ent.start: ent.ent_id_ for ent in doc.ents if len(ent) == 1 and ent.ent_id_.isalpha()}
    words: List[str] = []
    corrected: set = set()
    guessed: set = set()  # corrected by one wrong letter: only inside a longer name
    for token in doc:
        word = standing_for.get(token.i, token.text)
        if meaning_of.get(token.lower_, token.lower_) != token.lower_:
            corrected.add(token.i)  # a misspelling the patterns list ("Engneering")
        if token.i not in covered:
            spelled = _spelled(token.lower_, vocabulary)
            wrong_letter = None if spelled else _one_letter_wrong(token.lower_, vocabulary)
            if spelled:
                word, corrected = spelled, corrected | {token.i}
            elif wrong_letter:
                word, corrected, guessed = wrong_letter, corrected | {token.i}, guessed | {token.i}
        between_words = 0 < token.i < len(doc) - 1 and doc[token.i - 1].is_alpha and doc[token.i + 1].is_alpha
        if token.lower_ in _AND_FORMS and between_words:
            word, corrected = "and", corrected | {token.i}
        words.append(word)
    if not corrected:
        return list(doc.ents)
    spaces = [bool(t.whitespace_) for t in doc]
    again = nlp.get_pipe("entity_ruler")(Doc(doc.vocab, words=words, spaces=spaces))
    ents = list(doc.ents)
    for found in again.ents:
        if not corrected & set(range(found.start, found.end)):
            continue
        if guessed & set(range(found.start, found.end)) and len(found) < 2:
            continue  # "competing" alone is a word, not "computing"
        inside = [e for e in ents if found.start <= e.start and e.end <= found.end]
        crossing = [e for e in ents if e not in inside and e.start < found.end and found.start < e.end]
        if crossing:
            continue
        span = Span(doc, found.start, found.end, label=found.label_)
        span.id_ = found.ent_id_
        ents = [e for e in ents if e not in inside] + [span]
    return sorted(ents, key=lambda e: e.start)


def _plausible(doc: Any, ent: Any, ents: List[Any]) -> bool:
    """False for matches that the surrounding words show are something else."""
    short_message = len(doc) <= _SHORT_ANSWER_TOKENS
    if ent.label_ == "degree_class" and ent.text.lower() in _CLASS_WORDS:
        if short_message:
            return True
        before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
        after = doc[ent.end].lower_ if ent.end < len(doc) else ""
        if after in _NOT_CLASS_AFTER or _MONTHS & {
            t.lower_ for t in doc[max(0, ent.start - 3) : ent.end + 2]
        }:
            return False
        if before in _CLASS_BEFORE:
            return after != "degree" or before in {"a", "got", "achieved", "with"}
        if before in ("(", ",", ")") and after in (")", ",", ".", "-"):
            # "an MPhys (first)", "BEng (Hons) Mechatronics, First, Ulster": a class set
            # apart beside the degree it belongs to.
            return any(
                other.label_ in ("qualification", "subject") and 0 <= ent.start - other.end <= 3
                for other in ents
            )
        return after in _CLASS_AFTER and after != "degree"
    if ent.label_ == "qualification" and ent.text.lower().startswith("master"):
        # "a PayPal master card" is a payment card
        after = doc[ent.end].lower_ if ent.end < len(doc) else ""
        if after in ("card", "cards"):
            return False
    if ent.label_ == "subject":
        before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
        if before in _NOT_STUDIED_BEFORE:
            return False
        if ent.ent_id_ in _CAREER_SUBJECTS and not short_message:
            return _studied(doc, ent) and not _into_career(doc, ent)
        return True
    if ent.label_ == "count":
        if short_message and ent.start == 0:
            return True
        return any(
            other.label_ == "qualification"
            and other.ent_id_ in _COUNTABLE
            and (
                0 <= other.start - ent.end <= 2
                # "A-levels: yes, 3": a form's label, then the count
                # (not "A-levels: 1 more year": the number must stand alone)
                or (
                    0 <= ent.start - other.end <= 4
                    and other.end < len(doc)
                    and doc[other.end].text == ":"
                    and (ent.end >= len(doc) or not doc[ent.end].is_alpha)
                )
            )
            for other in ents
        )
    return True


def _studied(doc: Any, ent: Any) -> bool:
    """'studied clinical engineering', 'an MSc in clinical engineering'."""
    before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
    if before in _STUDIED_BEFORE or before in _DEGREE_WORDS:
        return True  # "studied clinical engineering", "an MSc Clinical Engineering"
    window = {t.lower_ for t in doc[max(0, ent.start - 4) : ent.start - 1]}
    return before in {"in", "of"} and bool(window & _DEGREE_WORDS)


def _into_career(doc: Any, ent: Any) -> bool:
    """'get into clinical engineering', 'a career in clinical engineering'."""
    window = {t.lower_ for t in doc[max(0, ent.start - 3) : ent.start]}
    return bool(window & {"into", "career", "careers", "job", "jobs", "work", "working"})


def _only_intent(message: Message, name: Text) -> None:
    """Gives the message intent `name` with certainty, alone, and no entities."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
    message.set(ENTITIES, [], add_to_output=True)


def _intent_first(message: Message, name: Text) -> None:
    """Gives the message intent `name` with certainty, ahead of the classifier's others."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *others], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LongMessageFallback(ConfiguredComponent):
    """Routes cut messages to the fallback, whatever the classifier thought."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TRUNCATED):
                _only_intent(message, FALLBACK_INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ControlPhrases(ConfiguredComponent):
    """Messages that are only a control phrase get that intent, with certainty."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"phrases": {}}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent_of = {
            normalise_phrase(phrase): intent
            for intent, phrases in (config.get("phrases") or {}).items()
            for phrase in phrases
        }

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent_name = self._intent_of.get(normalise_phrase(message.get(TEXT) or ""))
            if intent_name and not message.get(TRUNCATED):
                _intent_first(message, intent_name)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DeletionRequests(ConfiguredComponent):
    """A message asking, in the person's own words, for their conversation or data to
    be deleted (nlp.deletion_requests) gets the intent that asks them to confirm,
    with certainty and no entities: never "start again", never the emergency reply.
    An exact control phrase (ControlPhrases, before this) keeps its own intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "request_deletion", "exact_intent": "delete_conversation"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self._intent = config["intent"]
        self._exact_intent = config["exact_intent"]

    def process(self, messages: List[Message]) -> List[Message]:
        from nlp.deletion_requests import asks_to_delete

        for message in messages:
            exact = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == self._exact_intent
            if exact or message.get(TRUNCATED):
                continue
            if asks_to_delete(message.get(TEXT) or ""):
                _only_intent(message, self._intent)
        return messages


def normalise_phrase(text: str) -> str:
    """Lower case, letters and spaces only: 'Stop!' and 'stop' are the same phrase."""
    return " ".join(re.sub(r"[^a-z ]", " ", text.lower()).split())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NotCoveredCues(ConfiguredComponent):
    """Settles a close call between "not covered" and a covered topic by the rules
    file's keywords: "not covered" if the message names something the sources do not
    cover (pay, visas, deadlines), the covered topic if it does not. A close call with
    out-of-scope goes to "not covered" only with such a keyword."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # A close call: the second scores at least this share of the first (against
        # out-of-scope, which is also where other careers' pay and ages go, a closer one).
        return {
            "intent": NOT_COVERED_INTENT,
            "out_of_scope": OUT_OF_SCOPE_INTENT,
            "min_ratio": 0.4,
            "min_ratio_out_of_scope": 0.5,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self._intent = config["intent"]
        self._out_of_scope = config["out_of_scope"]
        self._min_ratio = float(config["min_ratio"])
        self._min_ratio_out_of_scope = float(config["min_ratio_out_of_scope"])

    def process(self, messages: List[Message]) -> List[Message]:
        from careers.answers import not_covered_topic
        from careers.rules_file import NOT_COVERED_GENERAL, default_rules

        rules = default_rules()
        for message in messages:
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            if len(ranking) < 2:
                continue
            first, second = ranking[0], ranking[1]
            names = (first.get(INTENT_NAME_KEY), second.get(INTENT_NAME_KEY))
            if self._intent not in names:
                continue
            other = names[1] if names[0] == self._intent else names[0]
            top = first.get(PREDICTED_CONFIDENCE_KEY) or 0.0
            runner_up = second.get(PREDICTED_CONFIDENCE_KEY) or 0.0
            cued = not_covered_topic(rules, message.get(TEXT) or "") != NOT_COVERED_GENERAL
            if other in rules.topics:
                # A close call with a covered topic: the keywords decide either way.
                swap = runner_up >= self._min_ratio * top and cued != (names[0] == self._intent)
            elif other == self._out_of_scope and names[0] == other:
                # "What's the pay like?" on a careers site about clinical engineering:
                # not covered, if it names what the sources do not cover and is close.
                swap = cued and runner_up >= self._min_ratio_out_of_scope * top
            else:
                swap = False
            if swap:
                chosen = {**second, PREDICTED_CONFIDENCE_KEY: top}
                ranking = [chosen, first] + ranking[2:]
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OpenWorld(ConfiguredComponent):
    """Takes the classifier's guess only when the message has the words that ask for it
    (dialogue.questions.decide): otherwise "not covered", out of scope or not understood,
    with certainty. Replies that act need explicit words; the emergency reply and
    deletion are left to the components after this one."""

    def process(self, messages: List[Message]) -> List[Message]:
        from careers.rules_file import default_rules
        from dialogue.questions import decide

        rules = default_rules()
        for message in messages:
            if message.get(TRUNCATED):
                continue
            decision = decide(
                rules,
                message.get(TEXT) or "",
                message.get(INTENT_RANKING_KEY) or [],
                message.get(ENTITIES) or [],
            )
            if decision.intent is not None:
                _intent_first(message, decision.intent)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PrivacyQuestions(ConfiguredComponent):
    """A question about what the assistant keeps ("who can see this chat?") gets the
    privacy answer's intent, with certainty (nlp.deletion_requests.asks_about_privacy);
    a request to delete is DeletionRequests'."""

    def process(self, messages: List[Message]) -> List[Message]:
        from nlp.deletion_requests import asks_about_privacy, asks_to_delete

        for message in messages:
            text = message.get(TEXT) or ""
            if message.get(TRUNCATED) or text.startswith("/") or asks_to_delete(text):
                continue
            if asks_about_privacy(text):
                _only_intent(message, PRIVACY_INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyCues(ConfiguredComponent):
    """Messages that say someone's life may be at risk (nlp.emergencies.danger) get the
    emergency intent, with certainty; no other message does, whatever the classifier
    guessed (the OpenWorld component drops that guess)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "medical_emergency"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self._intent = config["intent"]

    def process(self, messages: List[Message]) -> List[Message]:
        from nlp.emergencies import danger

        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/") and danger(text):
                _intent_first(message, self._intent)
        return messages


_ELIGIBILITY_QUESTION = re.compile(
    r"\b(can|could|may|would|will)\s+(i|he|she|they|we|my \w+)\s+(still\s+|now\s+)?"
    r"(apply|get (on|onto|in|into|a place)|go for|be (eligible|considered|accepted)|qualify|do the"
    r"|switch|move|transfer|join|start)\b"
    r"|\b(am i|is (he|she|my \w+)|are (they|we))\s+(still\s+)?(eligible|qualified)\b"
    r"|\b(do|does|would)\s+(i|he|she|they|my \w+)\s+(qualify|meet|stand a chance|have a chance)\b"
    r"|\b(does|would|will|is)\s+(that|this|it)\s+(\w+\s+)?(get|be enough|enough)\b",
    re.IGNORECASE,
)
_OWN_FACTS = re.compile(
    r"\b(i|he|she|they|my \w+)\s*('ve|'m|'s|\s+have|\s+has|\s+had|\s+got|\s+am|\s+is|\s+did"
    r"|\s+was|\s+graduated|\s+hold|\s+finished|\s+completed)\b",
    re.IGNORECASE,
)
_FACT_ENTITIES = {"degree_class", "qualification", "subject"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EligibilityCues(ConfiguredComponent):
    """A message that states someone's own qualifications and asks whether they can
    apply is an eligibility check, when the classifier thought it a topic question."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": CHECK_INTENT, "min_confidence": 0.02}

    def __init__(self, config: Dict[Text, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self._intent = config["intent"]
        self._min_confidence = float(config["min_confidence"])

    def process(self, messages: List[Message]) -> List[Message]:
        from careers.rules_file import default_rules

        topics = default_rules().topics
        for message in messages:
            text = message.get(TEXT) or ""
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            if not ranking or ranking[0].get(INTENT_NAME_KEY) not in topics:
                continue
            named_class = any(e.get("entity") == "degree_class" for e in message.get(ENTITIES) or [])
            if not (_ELIGIBILITY_QUESTION.search(text) and (_OWN_FACTS.search(text) or named_class)):
                continue
            if not any(e.get("entity") in _FACT_ENTITIES for e in message.get(ENTITIES) or []):
                continue
            ours = next((r for r in ranking if r.get(INTENT_NAME_KEY) == self._intent), None)
            if ours is None or (ours.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < self._min_confidence:
                continue
            chosen = {**ours, PREDICTED_CONFIDENCE_KEY: ranking[0].get(PREDICTED_CONFIDENCE_KEY)}
            ranking = [chosen] + [r for r in ranking if r is not ours]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
