"""Does a message say that someone's life may be at risk?

Plain Python, no Rasa, so tests reach it directly. The emergency reply (999, NHS 111,
Samaritans) is the one reply that must never be missed and never given by guesswork:
"find my wallet" got it when a classifier decided, and "I don't see the point in going
on anymore" did not. So it is decided here, by explicit words, in groups that follow
how people say these things: wanting to die or to hurt themselves (also indirectly:
"everyone would be better off without me"), an overdose or poison swallowed, someone
not breathing or not waking, chest pain, the signs of a stroke, heavy bleeding,
choking, a severe allergic reaction, a seizure, a serious burn, and danger from
someone else. A figure of speech ("this application is killing me", "I'm dying to
know", "I nearly had a heart attack when I saw the date") and the past ("my dad had a
stroke last year", "I used to self harm") are not emergencies.

tests/open_world/emergencies.tsv must all pass, tests/open_world/near_misses.tsv none.
"""

from __future__ import annotations

import re

_NOT = r"(?:not|isn'?t|is not|isnt|wasn'?t|aren'?t|won'?t|wont|can'?t|cant|cannot|doesn'?t|doesnt|no longer)"

_GROUPS = {
    # The phrases the pipeline matched before issue 25, kept so that nothing it caught is missed.
    "earlier": [
        r"\b(kill|hurt|harm|cut)(ing)? (myself|herself|himself|themselves)\b",
        r"\b(end|ending|take|taking) (it all|my (own )?life)\b",
        r"\b(don'?t|do not) want to (be alive|live|be here)\b",
        r"\b(taken|took|swallowed) (too many|a load of|loads of|a whole (packet|box) of)\b",
        r"\b(can'?t|cannot|struggling to) breathe\b|\bnot breathing\b",
        r"\bchest pains?\b",
        r"\b(has|just|have) collapsed\b|\b(is|are) (unconscious|unresponsive)\b",
        r"\b(having|had) a (heart attack|stroke|seizure)\b",
        r"\bbleeding (heavily|badly|a lot|loads)\b",
    ],
    "suicide": [
        r"\bkill(?:ing)?\W+(?:my|him|her|them)sel(?:f|ves)\b",
        r"\bkms\b",
        r"\bsuicid",
        r"\b(?:hurt|harm|cut|burn|burnt|burned)(?:ing)?\W+(?:my|him|her|them)sel(?:f|ves)\b",
        r"\bself[- ]?harm(?:ing)?\W+(?:again|tonight|now|right now)\b",
        r"\b(?:want|wanna|going|gonna|plan|planning|about to)\W+(?:to\W+)?(?:die|end it|end it all"
        r"|end my life|"
        r"end things|do it tonight|jump(?!\W*start)|hang (?:my|him|her|them)sel(?:f|ves))\b",
        r"\b(?:end|ending)\W+(?:it all|my (?:own )?life|things)\b|\b(?:take|taking)\W+(?:it all"
        r"|my (?:own )?life)\b",
        r"\b(?:see|any|no)\W+(?:the\W+)?point\W+(?:in\W+)?(?:going on|living|carrying on|being alive"
        r"|anything)\b",
        r"\bend it\b(?!\W+(?:with|early))",
        r"\b(?:don'?t|do not|dont)\W+want\W+to\W+(?:be alive|live|be here|wake up|exist)\b",
        r"\bno\W+(?:point|reason)\W+(?:in\W+)?(?:going on|living|being alive|carrying on)\b",
        r"\b(?:better off|happier)\W+(?:without me|if i (?:wasn'?t|was not|wasnt|weren'?t) (?:here|around"
        r"|alive))\b",
        r"\b(?:tired of|sick of|done with)\W+(?:living|life|being alive)\b",
        r"\b(?:never|not)\W+wake\W+up\b",
        r"\bmake sure i\W+(?:don'?t|dont|never)\W+wake\b",
        r"\b(?:won'?t|wont|will not)\W+be\W+around\W+(?:much\W+)?(?:longer|anymore)\b",
        r"\b(?:no one|nobody|noone)\W+(?:will|would)\W+miss\W+me\b",
        r"\bwhen i'?m gone\b|\bwhen im gone\b",
        r"\bi'?m (?:such )?a burden\b|\bim (?:such )?a burden\b",
        r"\b(?:written|wrote|writing|left)\W+(?:my|a)\W+(?:suicide\W+)?note\b",
        r"\bmy last message\b|\blast message to (?:anyone|everyone)\b",
        r"\b(?:giving|gave)\W+(?:my|all my)\W+(?:stuff|things|belongings)\W+away\b",
        r"\b(?:pills|tablets|meds)\W+(?:lined up|ready|saved)\b|\bsaved up\W+(?:enough\W+)?(?:pills"
        r"|tablets|meds)\b",
        r"\bhow many\W+(?:pills|tablets|paracetamol)\W+(?:it\W+)?(?:would|will|to)\b",
        r"\b(?:on|standing on|stood on|at)\W+(?:the|a)\W+(?:bridge|edge|roof|cliff)\b",
        r"\bcan'?t\W+(?:take|do)\W+(?:it|this)\W+any\W*more\b.*\b(?:stop|end|die|gone)\b",
        r"\b(?:it|everything|the pain)\W+(?:all\W+)?(?:to\W+)?stop\W+for\W+good\b",
        r"\bthe pain\b.*\bunless i end\b",
        r"\bthinking about ending\b",
        r"\bmade my mind up\b.*\b(?:tonight|night|today)\b|\btonight'?s the night\b",
        r"\b(?:goodbye|suicide)\W+(?:message|note|post|letter)\b",
        r"\bgoing to do something\b",
        r"\b(?:doesn'?t|does not|dont|don'?t)\W+want\W+(?:any\W+)?help\b",
    ],
    "overdose": [
        r"\boverdos|\bod'?d\b|\bo\.d\.?'?d\b",
        r"\b(?:taken|took|swallowed|drunk|drank|ate|eaten|had)\W+(?:about\W+)?(?:\d+|too many|a load of"
        r"|loads of|"
        r"lots of|all (?:my|of my|the|her|his)|a whole (?:packet|box|bottle) of|half a bottle"
        r"|some of (?:my|the))"
        r"\W*(?:\w+\W+){0,2}?(?:pills|tablets|paracetamol|meds|medication|antidepressants|sertraline|"
        r"ibuprofen|co-codamol|codeine|insulin|heroin|painkillers|sleeping pills)\b",
        r"\b(?:took|taken|had|swallowed)\W+(?:something|some stuff)\W+(?:at|and)\b.*\b(?:wake|breath"
        r"|respond)",
        r"\b(?:swallowed|swallow|drank|drunk|drink|ate|eaten|bitten into|bit into)\W+(?:a|an|some|the)?\W*"
        r"(?:\w+\W+){0,2}?(?:button battery|batteries|bleach|antifreeze|magnet|magnets|dishwasher tablet|"
        r"washing tablet|detergent|drain cleaner|weedkiller|poison|pills|tablets)\b",
        r"\bpoison(?:ed|ing)\b",
        r"\bcarbon monoxide\b",
    ],
    "breathing": [
        rf"\b{_NOT}\W+breathing\b|\bstopped breathing\b",
        r"\b(?:can'?t|cant|cannot|can barely|struggling to|unable to|hard to|trouble)\W+(?:breathe|breathing|"
        r"catch (?:his|her|my|their) breath)\b",
        r"\b(?:unconscious|unresponsive)\b",
        r"\b(?:has|just|have|'s|is)\W+collapsed\b|\bcollapsed\W+(?:on|at|in)\b",
        rf"\b{_NOT}\W+(?:responding|waking|wake up|waking up|come round|coming round)\b",
        r"\b(?:can'?t|cant|cannot)\W+wake\W+(?:him|her|them|me)\b|\bwon'?t wake\b|\bwont wake\b",
        r"\b(?:gone|going|turning|turned)\W+blue\b",
        r"\b(?:can'?t|cant|cannot)\W+(?:feel|find)\W+a\W+pulse\b|\bno pulse\b",
        r"\bgurgling\b",
        r"\b(?:breathing\W+(?:sounds\W+)?(?:weird|strange|funny|wrong))\b",
        r"\basthma attack\b",
        r"\belectrocuted\b|\belectric shock\b|\bhit\W+(?:his|her|their|my)\W+head\b|\bhead injury\b",
        r"\bfainted\b.*\b(?:wake|respond|breath)",
        r"\bpass(?:ing)? out\b",
    ],
    "cardiac": [
        r"\bchest\W+(?:pains?|feels?\W+(?:really\W+)?(?:tight|heavy))\b|\bpains?\W+in\W+(?:my|his"
        r"|her)\W+chest\b",
        r"\bclutching\W+(?:his|her|my|their)\W+chest\b",
        r"\b(?:having|had|have|'m having|is having)\W+a\W+heart\W+attack\b(?!\W+(?:when|at|over|about))",
        r"\bheart attack\W+i\W+think\b|\bi think (?:i'?m|im|he'?s|she'?s|hes|shes) having a heart attack\b",
        r"\bpain\b.*\b(?:left arm|down my arm|jaw)\b",
    ],
    "stroke": [
        r"\bface\W+(?:has\W+)?(?:dropped|drooping|droops|fallen)\b|\bmouth\W+(?:is\W+)?drooping\b",
        r"\b(?:speech|words)\W+(?:is\W+|are\W+)?(?:all\W+)?(?:slurred|coming out wrong)\b|\bslurring\b",
        r"\b(?:is|'s|s|am|i'?m|im)\W+having\W+a\W+stroke\b|\bhaving\W+a\W+stroke\b(?!\W+(?:when|at|over))",
        r"\b(?:can'?t|cant|cannot)\W+(?:lift|raise|move)\W+(?:his|her|my|their)\W+(?:right|left)?\W*arm\b",
        r"\b(?:smile|face)\W+(?:has\W+)?gone\W+lopsided\b",
        r"\b(?:can'?t|cant|cannot)\W+feel\W+one\W+side\b",
        r"\bworst headache\b",
        r"\barm\W+is\W+weak\b",
    ],
    "bleeding": [
        r"\bbleeding\W+(?:really\W+)?(?:heavily|badly|a lot|loads|everywhere|from (?:his|her|my|their))\b",
        r"\b(?:won'?t|wont|will not)\W+stop\W+bleeding\b|\bblood\W+(?:is\W+)?(?:everywhere|spurting"
        r"|pouring)\b",
        r"\b(?:been|got|was|has been)\W+stabbed\b|\bstabbed\b",
        r"\b(?:car|bike|motorbike)\W+crash\b",
    ],
    "choking": [
        r"\bchok(?:ing|es)\b(?!\W+(?:in|at|on)\W+(?:my|the|an|his|her)\W+(?:interview|exam|test"
        r"|presentation))",
        r"\bfood\W+stuck\b",
    ],
    "allergy": [
        r"\banaphyla",
        r"\b(?:throat|tongue|lips|face)\W+(?:is\W+|are\W+|has\W+)?(?:swelling|swelled|swollen|closing)\b",
        r"\b(?:swelling|swelled|swollen)\W+(?:up\W+)?after\b",
        r"\ballergic\W+reaction\b",
        r"\bepi-?pen\b",
    ],
    "seizure": [
        r"\b(?:having|had|has|is having)\W+(?:a\W+)?(?:seizure|fit)\b(?!\W+(?:when|last|years|as a))",
        r"\bfitting\b|\bseizing\b|\bconvulsing\b|\bfirst\W+(?:ever\W+)?seizure\b",
        r"\bwent stiff\b|\bstarted jerking\b",
    ],
    "burns": [
        r"\b(?:boiling water|kettle)\b.*\b(?:over|on)\W+(?:him|her|them|me|my|his)\b",
        r"\b(?:badly|seriously|severely)\W+(?:burned|burnt)\b|\bburns\W+(?:on|to)\W+(?:his|her|my|their)\b",
        # (not "caught my card on fire": a thing, no one in danger)
        r"(?<!\bcard )\bon\W+fire\b|\bcaught\W+fire\b|\bhouse fire\b",
        r"\b(?:in|into)\W+(?:my|his|her|their)\W+eyes\b.*\bburning\b",
    ],
    "danger": [
        r"\b(?:break|breaking)\W+in\b.*\bhiding\b|\btrying to break in\b",
        r"\bthreatening\W+to\W+(?:kill|hurt|stab)\b|\b(?:going to|gonna|will|he'?ll|hell"
        r"|she'?ll)\W+(?:kill|hurt)\W+"
        r"(?:me|us|the kids|my|her|him)\b",
        r"\bgot\W+a\W+(?:knife|gun|weapon)\b",
        r"\bscared\W+for\W+my\W+life\b|\bbeing followed\b",
        r"\b(?:hitting|beating|attacking|strangling)\W+me\b",
        r"\bwon'?t let me leave\b|\bwont let me leave\b",
    ],
}
# Said of the past, or as a figure of speech: not an emergency now.
_NOT_NOW = re.compile(
    r"\b(?:last (?:year|month|week)|years ago|months ago|as a (?:child|kid|teenager)|used to|in the past|"
    r"recovered|doing well now|killing me|killed me|dying to|to die for|nearly had|almost had|"
    r"could (?:have|'ve) (?:died|had)|kill for|dead tired|dead-end|would kill me|heart sank)\b",
    re.IGNORECASE,
)
_PATTERNS = {
    group: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    for group, patterns in _GROUPS.items()
}


def danger(text: str) -> str:
    """The kind of emergency a message describes ("suicide", "breathing", ...), or ""."""
    text = (text or "").replace("\u2019", "'")
    if _NOT_NOW.search(text):
        return ""
    for group, pattern in _PATTERNS.items():
        if pattern.search(text):
            return group
    return ""
