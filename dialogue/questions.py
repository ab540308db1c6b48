"""What a message asks, decided in plain Python (issue 25): is it about our field, what
exactly is asked, and do our sources answer that. No Rasa import; the pipeline
(`nlp.rasa_components.OpenWorld`) and the actions call these, and tests reach them
directly (tests/test_questions.py).

The intent classifier only ranks guesses. A guess is taken only when the message has the
words that ask for it:

- a topic's answer only when the message contains one of the topic's `asked_by` words
  (rules file): an answer that does not answer the question is worse than none;
- something the sources answer or say they don't (`applying` and `not_covered` in the
  rules file) when the message names it by one of its `keywords`; the longest match wins,
  so "interview feedback" is feedback, not the selection stages;
- a reply that acts (the emergency reply, clearing, deleting, stopping or starting a
  check) only on explicit words: the classifier's guess is never enough (the emergency
  reply is `SafetyCues`' alone, deletion `DeletionRequests`' and `ControlPhrases`');
- small talk (hello, thanks, yes, no, why, what about ...) only with its words.

What is left is decided by the field: a question about getting into clinical
engineering that nothing answers gets "my sources don't cover that", naming it; a
message outside the field is declined; anything else is "not sure what you mean".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from careers.rules_file import NOT_COVERED_GENERAL, EntryRules
from careers.vocabulary import (
    AFFIRM_INTENT,
    APPLYING_PREFIX,
    CHECK_INTENT,
    DENY_INTENT,
    FALLBACK_INTENT,
    FOLLOW_UP_INTENT,
    INFORM_INTENT,
    NOT_COVERED_INTENT,
    NOT_COVERED_PREFIX,
    OUT_OF_SCOPE_INTENT,
    START_AGAIN_INTENT,
    WHY_INTENT,
)

# Words that put a message in our field: the career, the programmes and who runs them,
# the qualifications they ask for, applying and training. "NHS" alone counts: the
# assistant sits on a careers site about an NHS career.
_FIELD = (
    r"clinical engineer\w*|clin eng\w*|clinical scien\w*|healthcare scien\w*|health care scien\w*"
    r"|health science|ipem|medical physic\w*|biomedical engineer\w*|bio-medical engineer\w*"
    r"|medical engineer\w*"
    r"|rehab\w* engineer\w*|clinical technolog\w*|ebme|medical devices?|medical equipment"
    r"|stps?|ptps?|scientist training|practitioner|nshcs|national school|nhs"
    r"|sjt|situational judge?ment|shortlist\w*|short-? ?listing|hcpc|ahcs|oriel|ucas|equivalence"
    r"|register of clinical technologists"
    r"|gcses?|a-? ?levels?|alevels?|btecs?|hnds?|hncs?|t-? ?levels?|highers"
    r"|year 1[0-3]|sixth form|meng|mphys|apprentice\w*|specialisms?|specialt(y|ies)|speciali(ty|ties)"
)
# Words of the field that other requests use too ("how to apply cream", "a credit card
# application", "the median salary for an engineering degree"): a message with only these
# is ours when nothing else in it is foreign to the field (in_field).
_FIELD_SHARED = (
    r"hospitals?|trusts?|recruitment|programmes?|schemes?|earn|earnings|dbs|night shifts?|shift work"
    r"|shift patterns?|working hours|degrees?|bsc|msc|phd|masters|master's|honours"
    r"|undergrad\w*|postgrad\w*|graduat\w*|universit\w*|uni|course|courses|modules?"
    r"|apply|applying|applied|applications?|applicants?|entry requirements?|requirements?"
    r"|interviews?|qualif\w*|careers?|jobs?|roles?|profession\w*|vacanc\w*|posts?"
    r"|train|training|trainees?|traineeships?|placements?|engineering|engineers?|scientists?|technicians?"
    r"|salary|salaries|pay band\w*|registration|registered|register"
)
_FIELD_RE = re.compile(rf"(?<![\w-])({_FIELD})(?![\w-])", re.IGNORECASE)
# The person's own money ("how much is my salary?", "how much am I taxed?"), not the career's.
_OWN_MONEY_RE = re.compile(
    r"(?<![\w-])(my|our)( total| work| monthly| annual| current)? (salary|pay|paycheck|payslip|earnings"
    r"|income|wages?|bills?|tax|taxes)(?![\w-])|(?<![\w-])(taxed|taxes)(?![\w-])"
)
# Errands of other assistants, whose words the field shares ("apply for a visa card", "a
# student loan offer", "a plug in Wales"): a message with only shared words and one of
# these is not ours (in_field).
_OTHER_ERRANDS_RE = re.compile(
    r"(?<![\w-])((credit|debit|visa|master|bank|new|gift|store|discover|amex|my) ?cards?|mastercard"
    r"|american express|bank accounts?|loans?|mortgages?|reservations?|flights?|hotels?|recipes?"
    r"|insurance|playlists?|plugs?|weather|traffic|restaurants?|groceries|grocery|shopping list"
    r"|to-?do list)(?![\w-])"
)
_FIELD_SHARED_RE = re.compile(rf"(?<![\w-])({_FIELD_SHARED})(?![\w-])", re.IGNORECASE)
# Our own career by name: a message naming it is ours whatever else it names.
_OURS_RE = re.compile(
    r"(?<![\w-])(clinical engineer\w*|clin eng\w*|stps?|ptps?|scientist training|practitioner training"
    r"|practitioner (programme|route|degree)|nshcs|national school|healthcare scien\w*|clinical scien\w*"
    r"|biomedical engineer\w*|medical engineer\w*|rehab\w* engineer\w*|clinical technolog\w*|ebme)(?![\w-])",
    re.IGNORECASE,
)
# Other careers: "how do I become a paramedic?" is not ours, however NHS it sounds.
_OTHER_CAREERS_RE = re.compile(
    r"(?<![\w-])(paramedics?|nurs(e|es|ing)|midwi(fe|ves|fery)|physio\w*|radiograph\w*|pharmac(y|ist|ists)"
    r"|doctors?|gps?|dentist\w*|dental|teach(er|ers|ing)|vets?|veterinary|police|firefight\w*|lawyers?"
    r"|accountan\w*|civil engineer\w*|software engineer\w*|mechanical engineer\w*|biomedical scientists?"
    r"|occupational therap\w*|speech (and language )?therap\w*|dietitians?|optometrists?|audiologists?"
    r"|psycholog(ist|ists)|social work\w*|porters?|healthcare assistants?|hcas?|management (training )?scheme"
    r"|retail|hospitality|plumb\w*|electricians?|aircraft engineer\w*|pilots?|cover letter"
    r"|laptops?)(?![\w-])",
    re.IGNORECASE,
)

# Explicit words for each reply that acts or is small talk. The classifier's guess of
# one of these intents stands only when its words are there.
_CUES: Dict[str, str] = {
    CHECK_INTENT: (
        r"eligib\w*|elig[ae]b\w*|elligib\w*|check (my|me|if|whether|whatever)|qualify|qualified|my chances"
        r"|any chance|a chance|allowed to apply|good enough|meet the (criteria|requirements)|whether i can"
        r"|if i can|mean i can|if i meet"
        r"|(can|could|would|will|do|does|am|is) (i|he|she|they|we|my \w+) (still |even |ever )?"
        r"(apply|get|go for|be (eligible|accepted|considered)|qualify|join|enter|start|do|meet|have a chance)"
        r"|(is|are) (that|this|it|these|those|they) (enough|good enough|ok|okay|acceptable)|enough to"
        r"|do i need"
    ),
    START_AGAIN_INTENT: (
        # (not "reset to factory settings", "start over using factory setting", "reset my
        # password": the assistant has none of these)
        r"(start (again|over|afresh|from the (beginning|start)|a new check)|restart|reset)"
        r"(?!\W+((to|using|with|from)\W+)?(\w+\W+)?(factory|factor|settings?|password|pin|router|phone|alarm))"
        r"|begin again"
        r"|from scratch|clear (everything|it all|my answers|what i (said|told you))|new check"
        r"|go back to the (beginning|start)|redo|do it again|from the top"
    ),
    "stop": (
        r"(stop|cancel|quit|exit|end|leave|pause)\W+(the\W+|this\W+|my\W+)?(check|checking|questions?|quiz|it"
        r"|this|that|eligibility\w*|now)|forget it|no more questions|i'?ve had enough|that'?s enough"
        r"|(don'?t|do not|dont) want to (do|continue|carry on|finish)|stop asking|not checking"
        r"|(want|like|need|wanna|going) to (stop|quit|cancel|end)|let'?s (stop|quit)"
        r"|can we (just )?(stop|quit)"
        r"|stop here|don'?t bother|dont bother|nvm|rather not (carry on|continue|go on)|not carry on"
        r"|(stop|cancel|quit)( please| now| thanks)?\s*$"
    ),
    "greet": (
        r"hi|hello|hey|hiya|heya|howdy|good (morning|afternoon|evening)|morning|evening"
        r"|afternoon|greetings|yo"
        r"|hallo|alright|how'?s it going|hows it going|how are you"
    ),
    "goodbye": (
        r"bye|goodbye|see (you|ya)|cya|later|that'?s all|that is all|good ?night|farewell|cheerio|ttyl"
        r"|take care|i'?m off|im off|have a good (one|day|evening)|all the best"
    ),
    "thank": (
        r"thank\w*|thanx|thx|ty|cheers|ta|appreciated?|helpful|brilliant|perfect|lovely|great|awesome|star"
        r"|you'?ve been|legend|nice one"
    ),
    "bot_challenge": (
        r"bots?|robots?|human|person|real|ai|machine|chatbots?|computer|automated|who are you|what are you"
        r"|anyone (actually )?(reading|there|here)|talking to a"
        r"|are you"
    ),
    "help": (
        r"help|what can you|what do you (do|know)|options|menu|topics|what can i ask|what else"
        r"|how does this work|how do you work|can i ask|things you|what you cover|do you cover|overview"
        r"|how does this (chat|thing)|what are you for|use this|what to type|what to ask"
        r"|examples|what should i ask|(questions|things) can you (answer|help)|can you answer"
    ),
    AFFIRM_INTENT: (
        r"yes|yeah|yep|yup|ya|yea|yh|ok|okay|k|sure|correct|right|true|indeed|absolutely|definitely"
        r"|of course|please|go on|go ahead|sounds good|i do|i am|i have|i did|y|aye|not sure|unsure"
    ),
    DENY_INTENT: (
        r"no|nope|nah|not|don'?t|do not|never|none|neither|n|wrong|incorrect|not sure|unsure|no idea"
        r"|dunno|haven'?t|didn'?t|i'?m not|dont think so|don'?t think so"
    ),
    FOLLOW_UP_INTENT: (
        r"what about|how about|and (what|how|if|for|with|the|my|a|an|is|are|does|do|can)|what if|the other"
        r"|other (one|route|programme|way)|same for|also|instead|about the|for (my|a|an|the)|if (it|i|he|she)"
        r"|(does|do|is|would|will|can) (that|this|it) (include|cover|apply|count|mean|work)|that include"
        r"|wat about|n the|and the|same (go|goes|with|for|applies)|go for|goes for|still apply|too\s*$"
    ),
    WHY_INTENT: (
        r"why|how come|reason|explain|sources?|where does|where did|says who|evidence|how do you know"
        r"|how did you|where (are|is|did) you get\w*|based on|where'?s that from|what makes you say"
        r"|whys|why'?s|y not|how so"
    ),
}
_CUE_RES = {
    intent: re.compile(rf"(?<![\w'-])({cue})(?![\w'-])", re.IGNORECASE) for intent, cue in _CUES.items()
}
# Asking for the check itself, which needs no word of the field ("can you check my eligibility?").
_ASKS_FOR_A_CHECK = re.compile(
    r"(?<![\w'-])((check|checking|test|assess)\W+(my|me|if|whether)\b.*\beligib\w*|my eligibility"
    r"|eligibility check|(am|are) (i|we) eligible( then| now| or not)?\W*$)",
    re.IGNORECASE,
)
# Replies that act; the classifier's guess of these is never enough on its own words.
_ACTS_NEEDING_CUES = (CHECK_INTENT, START_AGAIN_INTENT, "stop")
# Set only by SafetyCues, DeletionRequests, ControlPhrases or a button: never a guess.
NEVER_GUESSED = ("medical_emergency", "request_deletion", "delete_conversation", "keep_conversation")
# Facts about the person: a statement with these starts or feeds the check.
_FACT_ENTITIES = ("degree_class", "qualification", "subject", "grade", "count", "stage", "origin")
_PROGRAMME_NAMES = re.compile(
    r"\b(the\s+)?(nhs\s+)?(stp|ptp|scientist training( programme)?|practitioner training( programme)?"
    r"|practitioner (route|programme))\b",
    re.IGNORECASE,
)
# Qualifications named: with these, "can I apply?" is a check.
_QUALIFICATION_ENTITIES = ("degree_class", "qualification", "subject", "grade", "count")
# A question stating one of these is about the person's own qualifications (a subject alone
# is not: "will I see blood working in medical engineering?").
_STATED = ("degree_class", "qualification", "grade")
# Entities that only our field's messages have.
_FIELD_ENTITIES = ("programme", "degree_class")
# A topic or concept guessed below this is not offered as the answer.
MIN_TOPIC_CONFIDENCE = 0.1
# A guess of the field, in a message with no word of the field, counts from this confidence.
TRUSTED_CONFIDENCE = 0.5
# A message with only words the field shares with others is outside it from this many
# words the rules file has no word for (in_field).
MIN_FOREIGN_WORDS = 2
# A message this short that the classifier read as small talk or an answer keeps it.
SHORT_MESSAGE_WORDS = 3


@dataclass(frozen=True)
class Decision:
    """The intent a message should have (None: the classifier's stands) and why."""

    intent: Optional[str]
    reason: str


@lru_cache(maxsize=1024)
def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, punctuation other than ' + : . & / - as spaces."""
    text = (text or "").lower().replace("\u2019", "'").replace("\u2018", "'")
    return " " + " ".join(re.sub(r"[^\w'+:.&/-]", " ", text).split()) + " "


@lru_cache(maxsize=512)
def _phrases_re(phrases: Tuple[str, ...]) -> Optional["re.Pattern[str]"]:
    if not phrases:
        return None
    ordered = sorted(phrases, key=len, reverse=True)
    # A plural or possessive counts too ("HNCs", "the STP's").
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in ordered) + r")(?:'?s|es)?(?![\w-])")


def _spans(phrases: Sequence[str], text: str) -> List[Tuple[int, int]]:
    pattern = _phrases_re(tuple(phrases))
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(normalise(text))]


def in_field(text: str, rules: EntryRules) -> bool:
    """True when the message names something of our field, and not only another career.
    Words our field shares with others ("apply", "degree", "salary") count unless more
    of the message is foreign to the field (foreign_words: "how to apply cream to
    smooth itchiness", "a credit card application")."""
    if about_another_career(text):
        return False
    value = normalise(text)
    if _FIELD_RE.search(value):
        return True
    shared = len(_FIELD_SHARED_RE.findall(value))
    if _OWN_MONEY_RE.search(value) or _OTHER_ERRANDS_RE.search(value):
        return False  # "how much is my salary?", "can I apply for a new card?": not the career's
    if not shared:
        return False
    foreign = len(foreign_words(rules, text))
    return foreign < MIN_FOREIGN_WORDS or shared > foreign


def foreign_words(rules: EntryRules, text: str) -> List[str]:
    """The words of substance in `text` that appear nowhere in the rules file ("cream",
    "loan", "credit"): what the field has no word for."""
    known = _field_vocabulary(rules)
    return [
        word
        for word in _WORD_RE.findall(normalise(text))
        if len(word) >= _MIN_ASPECT_LETTERS
        and "'" not in word
        and _stem(word) not in known
        and _stem(word) not in _SET_ASIDE
    ]


# Stems of the rules file, by (file, review date, what): worked out once, not per message.
_VOCABULARIES: Dict[Tuple[str, str, str], frozenset] = {}


def _once(rules: EntryRules, what: str, texts: Callable[[EntryRules], List[str]]) -> frozenset:
    key = (str(rules.path), str(rules.last_reviewed), what)
    if key not in _VOCABULARIES:
        _VOCABULARIES[key] = _stems(" ".join(texts(rules)))
    return _VOCABULARIES[key]


def _fact_words(rules: EntryRules) -> frozenset:
    """The stems of every subject and qualification the rules file names (by id and label)."""
    return _once(
        rules,
        "facts",
        lambda r: [
            *r.subjects,
            *(f"{q.replace('_', ' ')} {label}" for q, (_, label) in r.qualifications.items()),
        ],
    )


def _field_vocabulary(rules: EntryRules) -> frozenset:
    """Every stem of the rules file's answers, titles and keywords."""
    return _once(rules, "field", _field_texts)


def _field_texts(rules: EntryRules) -> List[str]:
    texts: List[str] = list(rules.subjects)
    for topic in rules.topics.values():
        texts += [topic.text, topic.title, *topic.asked_by]
    for answer in rules.applying.values():
        texts += [answer.text, answer.title, *answer.keywords]
    for missing in rules.not_covered.values():
        texts += [missing.title, *missing.keywords]
    texts += [label for _, label in rules.qualifications.values()]
    return texts


# "my experience as a nurse", "I'm a teacher": the person's background, not another career asked about.
_BACKGROUND_BEFORE = re.compile(
    r"(?<![\w'-])(as|i'?m|im|i am|he'?s|she'?s|is|was|used to be|have been|i'?ve been|ive been|currently"
    r"|former|ex-?)\W+an?\W+([\w-]+\W+)?$",
    re.IGNORECASE,
)


def about_another_career(text: str) -> bool:
    """True for "how do I become a paramedic?": another career named, and not ours
    (someone's own background, "my experience as a nurse", does not count)."""
    value = normalise(text)
    if _OURS_RE.search(value):
        return False
    return any(
        not _BACKGROUND_BEFORE.search(value[max(0, m.start() - 40) : m.start()])
        for m in _OTHER_CAREERS_RE.finditer(value)
    )


# Questions to a person about their own life or job ("when did you decide to be an engineer?",
# "what are your main responsibilities?"): the assistant has none, and they are not ours.
_YOUR_LIFE_RE = re.compile(
    r"(?<![\w'-])((did|were|was|had) you|why did you|when did you|how did you|why didn'?t you|why didnt you"
    r"|how long have you been|what made you|made you (interested|want|choose|decide)|you'?ve chosen"
    r"|what (qualities|skills) do you have(?! to)|your (job|role|career|current"
    r"|responsibilities|day|main|first|dream|apprenticeship)|you (become|decide|decided|"
    r"first hear|always want\w*))(?![\w'-])",
    re.IGNORECASE,
)


def about_the_assistants_life(text: str) -> bool:
    """True for a question to a person about their own life or job."""
    return bool(_YOUR_LIFE_RE.search(normalise(text)))


def has_cue(intent: str, text: str) -> bool:
    """True when the message has the explicit words for `intent` (see _CUES)."""
    pattern = _CUE_RES.get(intent)
    return bool(pattern and pattern.search(normalise(text)))


def topic_asked(rules: EntryRules, topic: str, text: str, entities: Iterable[Mapping[str, Any]] = ()) -> bool:
    """True when the message contains a word the topic's answer declares it answers
    (`asked_by`; "@degree_class" there means a degree class named, in any words)."""
    known = rules.topics.get(topic)
    if not known:
        return False
    words = tuple(w for w in known.asked_by if not w.startswith("@"))
    named = {"@" + str(e.get("entity")) for e in entities}
    return bool(_spans(words, text)) or bool(named & set(known.asked_by))


def concepts_asked(rules: EntryRules, text: str) -> List[str]:
    """What the message names of `applying` and `not_covered` (as `applying:<key>` and
    `not_covered:<key>`), in the order named; a match inside a longer one is dropped."""
    found: List[Tuple[int, int, str]] = []
    for key, answer in rules.applying.items():
        found += [(start, end, APPLYING_PREFIX + key) for start, end in _spans(answer.keywords, text)]
    for key, topic in rules.not_covered.items():
        if key != NOT_COVERED_GENERAL:
            found += [(start, end, NOT_COVERED_PREFIX + key) for start, end in _spans(topic.keywords, text)]
    kept = [
        (start, end, name)
        for start, end, name in found
        if not any(
            (s <= start and end <= e) and (e - s) > (end - start) and other != name for s, e, other in found
        )
    ]
    ordered = sorted(kept, key=lambda item: (item[0], -(item[1] - item[0])))
    return list(dict.fromkeys(name for _, _, name in ordered))


def _ranked(ranking: Iterable[Mapping[str, Any]]) -> List[Tuple[str, float]]:
    return [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name")]


def decide(
    rules: EntryRules,
    text: str,
    ranking: Iterable[Mapping[str, Any]],
    entities: Iterable[Mapping[str, Any]] = (),
) -> Decision:
    """The intent this message should have, given the classifier's ranking (module
    docstring). A button's payload ("/intent") is never second-guessed."""
    ranked = _ranked(ranking)
    if not ranked or (text or "").startswith("/"):
        return Decision(None, "nothing to decide")
    top, _ = ranked[0]
    words = len(normalise(text).split())
    entities = list(entities)
    has_facts = any(e.get("entity") in _FACT_ENTITIES for e in entities)
    words_of_the_field = in_field(text, rules)
    field = words_of_the_field or (
        any(e.get("entity") in _FIELD_ENTITIES for e in entities) and not about_another_career(text)
    )
    named = bool(concepts_asked(rules, text)) and not has_facts
    if top in NEVER_GUESSED:
        pass  # decided below, as if the classifier had not guessed it
    elif named and top in (CHECK_INTENT, FOLLOW_UP_INTENT):
        pass  # "can I apply for two specialisms?", "what about reapplying?": what it names
    elif top in _ACTS_NEEDING_CUES:
        asks_check = has_cue(top, text)
        # "can I apply with my predicted grade?": a topic's question, not a check.
        # (The programme's name alone asks nothing: "can I get onto the PTP?" is a check.)
        unnamed = _PROGRAMME_NAMES.sub(" ", text)
        asks_topic = any(
            name in rules.topics and confidence >= MIN_TOPIC_CONFIDENCE and topic_asked(rules, name, unnamed)
            for name, confidence in ranked[1:3]
        )
        qualifications = any(e.get("entity") in _QUALIFICATION_ENTITIES for e in entities)
        if (
            top == CHECK_INTENT
            and asks_topic
            and not qualifications
            and not _ASKS_FOR_A_CHECK.search(normalise(text))
        ):
            return _what_is_asked(rules, text, ranked, field, has_facts, entities)
        # Facts alone start a check only when they are plainly ours: a degree class, or
        # a word of the field ("add up my reward points for master card" is not).
        ours = words_of_the_field or any(e.get("entity") == "degree_class" for e in entities)
        if top == CHECK_INTENT and (
            _ASKS_FOR_A_CHECK.search(normalise(text))
            # (where a degree is from is no fact of our field on its own: "an American Express")
            or (asks_check and (field or qualifications or words <= 5))
            or (has_facts and not _asks(text) and ours)
            # A question that states someone's qualifications: "2:2 in sports science + a PGDip, can I?"
            or (any(e.get("entity") in _STATED for e in entities) and _asks(text) and ours)
        ):
            return Decision(None, "asks for a check in so many words")
        if top != CHECK_INTENT and has_cue(top, text):
            return Decision(None, f"asks for {top} in so many words")
    elif top == INFORM_INTENT:
        if has_facts or words <= SHORT_MESSAGE_WORDS or any(e.get("entity") == "programme" for e in entities):
            return Decision(None, "states facts")
    elif top in _CUE_RES:
        if has_cue(top, text) or (words <= SHORT_MESSAGE_WORDS and top in (AFFIRM_INTENT, DENY_INTENT)):
            return Decision(None, f"{top} in so many words")
    elif top not in rules.topics and top not in (NOT_COVERED_INTENT, OUT_OF_SCOPE_INTENT):
        return Decision(None, "not the open world's to decide")
    return _what_is_asked(rules, text, ranked, field, has_facts, entities)


def _what_is_asked(
    rules: EntryRules,
    text: str,
    ranked: List[Tuple[str, float]],
    field: bool,
    has_facts: bool,
    entities: List[Mapping[str, Any]],
) -> Decision:
    top, top_confidence = ranked[0]
    if about_another_career(text):
        return Decision(OUT_OF_SCOPE_INTENT, "about another career")
    concepts = concepts_asked(rules, text)
    field_guess = top in rules.topics or top in (NOT_COVERED_INTENT, CHECK_INTENT, FOLLOW_UP_INTENT)
    # Without a word of the field, a guess of the field counts only when the classifier is sure.
    trusted = field or (field_guess and top_confidence >= TRUSTED_CONFIDENCE)
    if about_the_assistants_life(text) and not _OURS_RE.search(normalise(text)):
        return Decision(OUT_OF_SCOPE_INTENT, "asks about a person's own life or job")
    # 1. The classifier's topic, when the message asks what it answers, and names nothing
    #    of `applying` or `not_covered` more precisely ("What IELTS score do I need for the
    #    STP?" asks about English, not the degree).
    asked = top in rules.topics and trusted and topic_asked(rules, top, text, entities)
    if asked and (
        not concepts or _longest(rules.topics[top].asked_by, text) > _concepts_longest(rules, text)
    ):
        return Decision(top, f"asks what {top} answers")
    # 2. What the message names that the sources answer, or say they don't ("English
    #    language" names our field's question in two words, unless the rest of the message
    #    is foreign to the field: "how to apply cream to my skin"; "pay" alone does not).
    named_ours = _named_in_full(rules, text) and len(foreign_words(rules, text)) < MIN_FOREIGN_WORDS
    if concepts and (trusted or named_ours):
        return Decision(NOT_COVERED_INTENT, "names " + ", ".join(concepts))
    # 3. A less likely topic that the message does ask about.
    for name, confidence in ranked[1:3]:
        asked = trusted and topic_asked(rules, name, text, entities)
        if name in rules.topics and confidence >= MIN_TOPIC_CONFIDENCE and asked:
            return Decision(name, f"asks what {name} answers")
    if field:
        if _asks(text) or field_guess:
            return Decision(NOT_COVERED_INTENT, "a question in the field that no answer covers")
        return Decision(FALLBACK_INTENT, "in the field, but asks nothing clear")
    if any(e.get("entity") in _QUALIFICATION_ENTITIES for e in entities) and top_confidence:
        return Decision(FALLBACK_INTENT, "facts, in words that ask nothing clear")
    return Decision(OUT_OF_SCOPE_INTENT, "outside the field")


def _longest(phrases: Sequence[str], text: str) -> int:
    return max((end - start for start, end in _spans(phrases, text)), default=0)


def _concepts_longest(rules: EntryRules, text: str) -> int:
    phrases = [k for a in rules.applying.values() for k in a.keywords]
    phrases += [k for n in rules.not_covered.values() for k in n.keywords]
    return _longest(tuple(phrases), text)


def _named_in_full(rules: EntryRules, text: str) -> bool:
    """True when something of `applying` or `not_covered` is named by a phrase of two
    words or more ("english language", "how many specialisms")."""
    phrases = [k for a in rules.applying.values() for k in a.keywords if " " in k]
    phrases += [k for n in rules.not_covered.values() for k in n.keywords if " " in k]
    return bool(_spans(tuple(phrases), text))


_QUESTION = re.compile(
    r"\?|^\s*(what|whats|what's|which|who|whom|whose|when|where|why|how|is|are|am|was|were|do|does|did"
    r"|can|could|should|would|will|may|might|must|shall|have|has|tell me|explain|i need to know"
    r"|i want to know|i'd like to know|wondering|any (advice|info|information|tips))\b",
    re.IGNORECASE,
)


def _asks(text: str) -> bool:
    return bool(_QUESTION.search(text or ""))


# Where one question ends and another begins: "?", a full stop, or "and"/"also" before
# a question word ("What A-levels do I need and when do applications open?").
_PART_BREAK = re.compile(
    r"[?!.;]+\s*|\s+(?:and|also|plus|but)\s+(?=(?:what|whats|what's|how|when|where|which|who|is|are|can|could"
    r"|do|does|will|would|should|is there|are there)\b)",
    re.IGNORECASE,
)


def parts(text: str) -> List[str]:
    """The questions of a message, one string each (one part for most messages)."""
    pieces = [p.strip() for p in _PART_BREAK.split(text or "") if p and p.strip()]
    return [p for p in pieces if len(p.split()) >= 2] or [text]


def other_questions(rules: EntryRules, text: str, answered: str) -> List[str]:
    """What the parts of a message that `answered` (a topic) does not answer name of
    `applying` and `not_covered`: asked too, and answered after it."""
    named: List[str] = []
    for part in parts(text):
        if topic_asked(rules, answered, part):
            continue
        named += [c for c in concepts_asked(rules, part) if c not in named]
    return named


def other_topic(
    rules: EntryRules, text: str, ranking: Iterable[Mapping[str, Any]], answered: Sequence[str]
) -> Optional[str]:
    """A topic asked in a part of the message that names nothing of `applying` or
    `not_covered` ("when do applications open, and what A-levels do I need?"): the
    likeliest of the classifier's topics that the part asks about; None when none."""
    pieces = parts(text)
    if len(pieces) < 2:
        return None
    for part in pieces:
        if concepts_asked(rules, part) or not _asks(part):
            continue
        for name, confidence in _ranked(ranking):
            likely = name in rules.topics and name not in answered and confidence >= MIN_TOPIC_CONFIDENCE / 2
            if likely and topic_asked(rules, name, part):
                return name
    return None


# --- Does the answer cover what was asked? -------------------------------------------
# An answer is chosen by the words that ask for it; a question can still ask something
# the answer does not speak to ("Where and when will the interviews be held?" names the
# selection stages, but asks where and when). What is left of a question once the words
# that ask nothing in particular are set aside must appear in the answer chosen (its
# text, title and the words that ask for it); what does not is named back to the person
# as what the sources don't say (dialogue.replies.partly_covered).


def _word_set(words: str) -> frozenset:
    return frozenset(words.split())


# Words that ask nothing in particular: grammar, asking, greeting and politeness.
_PLAIN_WORDS = _word_set(
    """
    about above after again against also although always among another anyone anything anyway
    around asked asking asks away back because been before being below between both bother came
    cannot certain come comes could currently does doing done down during each either else enough
    even ever every exactly fine first from further gets getting give given gives giving going gone
    good great have having hear hello help here hers herself himself into itself just keen kind
    know knows know later least less like likely little look looking lots made make makes making
    many maybe mean means might more most much must myself need needed needs never next okay only
    other others otherwise ours over please plus possible pretty probably quite rather really right
    said same says seem seems should since some someone something soon sort still such sure take
    taken takes tell than thank thanks that their theirs them then there these they thing things
    think this those though through thus together told under until upon usually very want wanted
    wants well were what whatever whats when where whether which while whilst will wish with within
    without wonder wondered wondering would your yours yourself hiya cheers advice actually
    basically really somebody anybody everyone everything possible question questions query
    enquiry info information details detail guys folks sorry confused asap onto instead find
    finding found happen happens happened part full last checked difference differences different
    differently same treat treated rely relying finish finished live lives living call called
    calls run runs running real really prior reach reached close closed closing open opens opened
    certain number numbers differentiate distinguish usual normal normally typical typically worth
    true false start starts started stop keep kept stay move moved moving late early soon long
    short high higher low lower big small best better worse worst easy easier hard harder
    explain explained matter matters important importance essential nice points point used using
    none nope qualifications qualification
    use actual actually seen mention mentioned mentioning once able stuff read link links list
    somewhere anywhere everywhere overall whole time times main mainly couple outline completely
    definition problem rule tend pulled brilliant love care cover covers classed class classified
    considered consider count counted purpose purposes recommended recommend expected expect
    assessed assess recognised recognized personal mine choices choosing choose chosen
    """
)
# Words of our field that every answer speaks to: the career, the programmes and applying.
_FIELD_WORDS = _word_set(
    """
    clinical engineer engineering engineers scientist scientists science sciences healthcare health
    medical physics physicist physicists biomedical nhs national school nshcs stp stps ptp ptps
    programme programmes program programs scheme schemes training train trainee trainees course
    courses career careers job jobs role roles apply applying applied application applications
    applicant applicants candidate candidates entry enter eligible eligibility allowed accept
    accepted acceptable count counts counted require requires required requirement requirements
    need criteria qualify qualified qualification qualifications route routes path pathway become
    becoming student students people person uk england british post posts position positions
    field area sector profession professional work working degree degrees undergrad undergraduate
    postgrad postgraduate graduate graduates vacancy vacancies academic technologist technologists
    clin eng chem bio biochem phys reqs grads unis uni hospital hospitals
    advert adverts advertise advertised advertising wales welsh scotland scottish northern ireland
    united kingdom country countries nation nations
    maths math setting
    """
)
# The person asked about: "my daughter", "one of my students", "as a careers adviser".
_PEOPLE_WORDS = _word_set(
    """
    son sons daughter daughters child children kid kids teen teenager pupil pupils adviser advisers
    advisor advisors teacher teachers parent parents mum mom dad father mother friend friends
    partner wife husband brother sister nephew niece grandson granddaughter colleague colleagues
    myself himself herself someone year years old aged college sixth form school
    """
)
_WORD_RE = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
# Shorter words are grammar or too short to name a question ("uni", "set", "tho").
_MIN_ASPECT_LETTERS = 4


def _stem(word: str) -> str:
    """A crude stem, enough to match "offered", "offering" and "offers" with "offer"."""
    word = word.lower().strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


@lru_cache(maxsize=256)
def _stems(text: str) -> frozenset:
    return frozenset(_stem(w) for w in _WORD_RE.findall(text.lower()))


_SET_ASIDE = _stems(" ".join(_PLAIN_WORDS | _FIELD_WORDS | _PEOPLE_WORDS))


def _answer_words(rules: EntryRules, answer: str) -> frozenset:
    """The stems an answer speaks to: its text, title and the words that ask for it."""
    if answer.startswith(APPLYING_PREFIX):
        known = rules.applying.get(answer[len(APPLYING_PREFIX) :])
        if known is None:
            return frozenset()
        words = [known.text, known.title, *known.keywords, *known.answers]
    else:
        topic = rules.topics.get(answer)
        if topic is None:
            return frozenset()
        words = [topic.text, topic.title, *topic.asked_by, *topic.answers]
    return _stems(" ".join(words))


# A capitalised word inside a sentence names a place or an institution ("from Dundee", "at
# Swansea"): who or where, not what is asked. (An acronym, "HSST", may be what is asked.)
_NAME_RE = re.compile(r"(?:(?<=[\w,;:)'\u2019\"-] )|(?<=\())([A-Z][a-z]+)\b")


def _names(text: str) -> set:
    return {m.group(1).lower() for m in _NAME_RE.finditer(text or "")}


def unanswered(rules: EntryRules, answer: str, text: str) -> List[str]:
    """The words of the question in `text` that the answer `answer` (a topic, or
    `applying:<key>`) does not speak to, in the order asked; [] when it covers them all.
    Only the parts that ask are read ("I volunteer at a hospital radio. Where can I get
    experience?" asks about experience), and subjects and qualifications a person names
    about themselves are facts, not what is asked."""
    covered = _answer_words(rules, answer)
    if not covered:
        return []  # not an answer the rules file has
    asking = [p for p in parts(text) if _asks(p)] or [text]
    facts = _fact_words(rules)
    missing: List[str] = []
    for part in asking:
        names = _names(part)
        for word in _WORD_RE.findall(normalise(part)):
            stem = _stem(word)
            if (
                len(word) < _MIN_ASPECT_LETTERS
                or ("'" in word and not word.endswith("'s"))  # "don't", "you're"
                or word in names
                or stem in _SET_ASIDE
                or stem in covered
                or stem in facts
                or word in missing
            ):
                continue
            missing.append(word)
    return missing
