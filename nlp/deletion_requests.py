"""Does a message ask for the person's conversation or data to be deleted?

Plain Python, no Rasa, so tests reach it directly. A message that asks in the
person's own words ("please delete my conversation", "I want my data deleted",
"erase my details") gets the assistant's confirmation question, and only "Yes,
delete it" deletes (config.yml: DeletionRequests). Before this, such messages were
read as "start again" ("OK, I've cleared what you told me", with the conversation
kept) or even as a medical emergency. The exact phrases of config.yml's
ControlPhrases (the widget's Delete button sends one) delete at once.

Explicit words only: a deletion verb and something of the person's (their
conversation, chat, data, details, messages, history, what they told the
assistant), in either order ("delete my data", "my data deleted"); a verb that is
negated ("don't delete my chat") does not count, nor does deleting anything else
("how do I delete my UCAS application?").
"""

from __future__ import annotations

import re

# Whose: the person's own (or the child's they ask for), or this conversation.
_OWN = r"(?:my|our|his|her|their|this|these|those|that|your copy of my|your records? of my)"
# This conversation, which "the" can name too ("erase the chat we just had").
_CHAT = (
    r"(?:conversations?|convos?|chats?|chat history|chat logs?|messages?|msgs?|transcripts?|sessions?|"
    r"history)"
)
# What of theirs can be deleted here. Not "answers": "clear my answers" is starting
# again, which says what it does.
_THINGS = (
    rf"(?:{_CHAT}|data|personal data|personal info(?:rmation)?|details|personal details|info(?:rmation)?|"
    r"records?|account|everything)"
)
# With the common misspellings ("delet", "errase").
_VERB = (
    r"(?:delete|delet|delte|deleting|remove|removing|erase|errase|erasing|wipe|wiping|destroy|destroying|"
    r"purge|purging|scrub|bin|trash|scrap|nuke|get rid of|clear|clearing)"
)
_DONE = (
    r"(?:deleted|removed|erased|wiped|destroyed|purged|scrubbed|binned|trashed|scrapped|nuked|cleared|gone)"
)
_GAP = r"(?:[\w']+\W+){0,5}?"  # a few words between ("all of my", "it and the rest of")
_WHO = r"(?:i|i've|i have|we|you|you've|you have|he|she|they|my \w+)"  # who said or keeps it
_SAID = r"(?:told|said|typed|wrote|written|gave|given|shared|put|entered)"
_KEPT = r"(?:know|stored|saved|kept|got)"
_PLEASE = r"(?:please|pls|plz|thanks|thank you|cheers)"

_ASKS = [
    # "delete my data", "please remove all of my details", "can you erase this whole chat"
    rf"\b{_VERB}\W+{_GAP}{_OWN}\W+(?:[\w']+\W+){{0,2}}?{_THINGS}\b",
    # "erase the chat we just had", "remove the messages"
    rf"\b{_VERB}\W+{_GAP}the\W+(?:[\w']+\W+){{0,1}}?{_CHAT}\b",
    # "delete convo", "pls delete chat" (the whole message)
    rf"^\W*(?:{_PLEASE}\W+|can\W+(?:you|u)\W+)?{_VERB}\W+{_CHAT}\W*(?:{_PLEASE}\W*)?$",
    # "I want my data deleted", "can my conversation be removed", "my details erased please"
    rf"\b{_OWN}\W+(?:[\w']+\W+){{0,2}}?{_THINGS}\W+{_GAP}{_DONE}\b",
    # "delete all data about me", "remove everything you have on me"
    rf"\b{_VERB}\W+{_GAP}(?:data|info(?:rmation)?|details|everything|anything|all)\W+{_GAP}"
    r"(?:about|on|of)\W+me\b",
    # "delete everything I told you", "erase what I've said", "delete what my daughter typed",
    # "delete all the personal info I gave you", "wipe all you know"
    rf"\b{_VERB}\W+{_GAP}(?:everything|all|anything|what|{_THINGS})\W+(?:that\W+)?{_WHO}\W+{_GAP}"
    rf"(?:{_SAID}|{_KEPT})\b",
    # "I want everything I said deleted", "can everything I've said to you today be deleted"
    rf"\b(?:everything|all|what)\W+(?:that\W+)?{_WHO}\W+{_GAP}{_SAID}\W+{_GAP}{_DONE}\b",
    # "please delete everything", "wipe it all", "delete all of it" (at the end)
    r"\b(?:delete|erase|wipe|remove|bin)\W+(?:all\W+of\W+it|(?:it\W+)?(?:all|everything))\W*$",
    # "I'd rather you didn't keep any of this", "stop storing my data", "don't keep my details"
    # (said to the assistant: not "I didn't keep my transcript")
    r"(?:\byou\W+|^\W*|[.,;:!?]\W*|\bplease\W+)(?:don'?t|do not|didn'?t|did not|stop|not to)\W+"
    r"(?:[\w']+\W+){0,1}?(?:keep|keeping|store|storing|save|saving|hold|holding|retain|retaining)\W+"
    r"(?:any\W+of\W+|all\W+of\W+|anything\W+(?:about|of)\W+)?"
    rf"(?:this|it|that|me|{_OWN}\W+(?:[\w']+\W+){{0,2}}?{_THINGS})\b",
    # "I no longer consent to you storing my data", "I withdraw my consent"
    r"\b(?:no longer consent|withdraw (?:my )?consent|don'?t consent)\b",
    # "forget me", "delete me from your system", "forget this whole conversation"
    r"\b(?:forget\W+(?:about\W+)?|delete\W+|erase\W+|remove\W+)me\b(?!\W+(?:if|whether|when|how|what|why))",
    rf"\bforget\W+(?:this|our|my)\W+(?:[\w']+\W+){{0,1}}?{_CHAT}\b",
    r"\bforget\W+(?:everything|all)\W+(?:about\W+me|i\W+(?:told|said)|you\W+know)\b",
    r"\bright\W+to\W+(?:be\W+forgotten|erasure)\b",
    # "can you forget what I told you", "forget my name and email"
    # (not "forget what I told you to do": cancelling an instruction, not deleting)
    rf"\bforget\W+(?:what|everything|all)\W+(?:that\W+)?{_WHO}\W+{_GAP}{_SAID}\b(?!\W+(?:\w+\W+)?to\W+do\b)",
    r"\bforget\W+my\W+(?:name|email|e-mail|number|phone|address|details|postcode)\b",
    # "I didn't mean to type my phone number, can you get rid of it"
    rf"\b{_SAID}\W+{_GAP}(?:my|our)\W+{_GAP}(?:name|email|e-mail|number|address|details|postcode)\b"
    rf"\W+{_GAP}{_VERB}\W+(?:it|that|them)\b",
]
_ASK = re.compile("|".join(f"(?:{pattern})" for pattern in _ASKS), re.IGNORECASE)
# "don't delete my chat", "no need to remove my details", "never erase..."
_NEGATED = re.compile(
    rf"\b(?:don'?t|do not|dont|never|no need to|not|won'?t|shouldn'?t)\W+(?:[\w']+\W+){{0,2}}?{_VERB}\b",
    re.IGNORECASE,
)


def asks_to_delete(text: str) -> bool:
    """True if `text` asks, in so many words, for the person's conversation or data
    to be deleted."""
    text = text.replace("\u2019", "'")
    return bool(_ASK.search(text)) and not _NEGATED.search(text)


# A question about what the assistant keeps: something of the person's (or this chat)
# and what happens to it, either way round ("is my information stored anywhere?",
# "who can see this chat?", "do you save what I type?").
_MINE = (
    r"(?:my|our|this|these|the|what i|what i've|what we|everything i|anything i|your)\W+(?:[\w']+\W+){0,2}?"
    rf"(?:{_CHAT}|data|info(?:rmation)?|details|personal details|answers|questions|ip address|location|"
    r"type|typed|say|said|told you|write|wrote|ask|asked|asking)"
)
_HAPPENS = (
    r"(?:stored?|storing|saved?|saving|kept|keep|keeping|recorded|record|recording|logged|logs?|tracked|"
    r"held|hold|holding|shared?|sharing|sent|passed|read|reads|see|sees|seen|view|access|used?|using|"
    r"train|training|private|confidential|anonymous|secure|safe|retained|retain|deleted|find out|copy)"
)
_PRIVACY = [
    rf"\b{_MINE}\b(?:\W+[\w']+){{0,5}}?\W+{_HAPPENS}\b",
    rf"\b{_HAPPENS}\b(?:\W+[\w']+){{0,5}}?\W+{_MINE}\b",
    r"\b(?:are|do|will|does|can)\s+(?:you|u|anyone|someone|staff|people|the nhs)\s+(?:\w+\s+){0,2}?"
    r"(?:record|recording|store|storing|save|saving|keep|keeping|log|logging|track|tracking|read|see|"
    r"monitor|monitoring)\s+(?:this|it|that|these|what i|what we|everything|anything|conversations?|chats?|"
    r"messages?|data|my (?:messages?|chats?|data|answers|details|conversations?))\b",
    r"\bwhat\W+(?:do|will|does)\W+(?:you|u|it)\W+do\W+with\W+(?:my|our|the|this)\b",
    r"\b(?:information|info|data|details)\W+(?:you|u)\W+(?:hold|have|keep|store)\W+(?:about|on)\W+me\b",
    r"\b(?:find|found)\W+out\W+(?:i'?ve|i have|that i)\W+(?:been\W+)?(?:asking|asked|using|talking"
    r"|chatting)\b",
    r"\b(?:privacy|data protection|gdpr|personal data)\b",
    # cookies on a website, not in an oven ("how long do I bake sugar cookies?")
    r"\b(?:use|uses|using|accept|store|stores|set|sets|track\w*|about)\W+(?:\w+\W+){0,2}?cookies\b"
    r"|\bcookies?\W+(?:policy|policies|settings|consent|banner|preferences)\b",
    r"\bwhat\W+(?:information|info|data|details)\W+(?:do|does)\W+(?:you|it)\W+(?:hold|have|keep|store)\b",
]
_PRIVACY_RE = re.compile("|".join(f"(?:{p})" for p in _PRIVACY), re.IGNORECASE)


# It is about this assistant: "share my location with steve" is not.
_ABOUT_US = re.compile(
    r"\b(?:you|u|your|here|this chat|this conversation|this bot|anyone|anybody|someone|staff|people|"
    r"stored?|saved?|kept|keep|recorded|record|recording|anonymous|private|confidential|privacy|gdpr|"
    r"data protection|who can|the ai|nhs|employer)\b",
    re.IGNORECASE,
)


# Asking the assistant to pass something on to someone ("share my location with Roger"):
# a request to act elsewhere, not a question about what this chat keeps.
_PASS_ON = re.compile(
    r"\b(?:share|send|text|email|forward)\W+(?:my|our)\W+(?:[\w']+\W+){0,2}?(?:with|to)\W+"
    r"(?!(?:you|u|anyone|anybody|others?|third|the|nhs|employers?|staff|people)\b)\w+",
    re.IGNORECASE,
)


def asks_about_privacy(text: str) -> bool:
    """True if `text` asks what the assistant keeps of the conversation, who sees it,
    or for how long (the privacy answer); deletion itself is asks_to_delete's."""
    text = text.replace("\u2019", "'")
    if _PASS_ON.search(text):
        return False
    return bool(_PRIVACY_RE.search(text) and _ABOUT_US.search(text)) and not asks_to_delete(text)
