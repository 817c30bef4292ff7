"""The red-flag guard of the chats: when the user's message describes a published red flag
(chest pain with sweating, face drooping, "I want to end my life", a 6-week-old with a fever ...),
both chats show a plain notice to get emergency help before the model's answer.

Why a fixed rule set in front of the model: a 135M-parameter model fine-tuned on forum answers
cannot be relied on to say "call 911"; the guard does not depend on it, is the same for every
model version, and is versioned (:data:`RULESET_VERSION`) so that an evaluation can report the
model with and without it. Each rule follows a published "call your emergency number / go to
the emergency department" list (its ``source``) and is written in lay phrasing; it reads the
message's normal form (:func:`~llm_finetune.safety.text.normalise`) and skips a negated mention
("I don't have chest pain"), except for self-harm, where a denial still gets the crisis line; a
sign of a combination does not count right after "no", "not", "without" or "never".
Where one sign alone is common and harmless (a sore calf, a late period, a red eye), a rule asks
for a combination of signs, as the published lists do (a swollen calf that is also warm and
sore; a late period with one-sided pain and fainting; a painful red eye in a contact-lens wearer).
Rule set 3 added the red flags of conditions the first rules missed in lay wording (carbon
monoxide, pre-eclampsia, bowel obstruction, delirium, neutropenic sepsis, croup and bronchiolitis,
giant cell arteritis ...), each written from the condition's published red-flag list.

False alarms matter too: a guard that fires on every question is ignored.
``benchmarks/safety_guard_alarms.py`` measures how many real questions it flags (target: at
most 5%), and lists them so that each can be judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations, permutations
from typing import Literal

from llm_finetune.safety.text import negated, normalise

#: Bump whenever a rule or a notice changes: evaluation results name the version they used.
RULESET_VERSION = "3"

Action = Literal["emergency", "urgent"]
ACTIONS: tuple[Action, ...] = ("emergency", "urgent")

EMERGENCY_NOTICE = (
    "\u26a0 This may be an emergency. Call your local emergency number now (911 in the US, 112 in "
    "the EU, 999 in the UK) or go to the nearest emergency department. This chatbot cannot help "
    "in an emergency."
)
URGENT_NOTICE = (
    "\u26a0 This may need urgent care. See a doctor today or go to urgent care; if it gets worse, "
    "call your local emergency number (911 in the US, 112 in the EU, 999 in the UK). This chatbot "
    "cannot examine you."
)
CRISIS_NOTICE = (
    "\u26a0 Please talk to someone now. Call or text 988 (Suicide & Crisis Lifeline, US), call "
    "Samaritans on 116 123 (UK and Ireland), or call your local emergency number (911 in the US, "
    "112 in the EU, 999 in the UK). You do not have to face thoughts of suicide or self-harm "
    "alone; this chatbot cannot help in a crisis."
)
#: Every notice the guard can show, most pressing first.
NOTICES = (CRISIS_NOTICE, EMERGENCY_NOTICE, URGENT_NOTICE)


@dataclass(frozen=True)
class RedFlagRule:
    """One red flag: the message matches when any pattern matches a part that is not negated,
    unless the message also matches ``unless`` (a harmless explanation, such as ear wax)."""

    name: str
    description: str
    patterns: tuple[re.Pattern[str], ...]
    action: Action
    source: str
    #: Self-harm: a denial ("I'm not suicidal but ...") still gets the crisis line.
    negatable: bool = True
    crisis: bool = False
    unless: re.Pattern[str] | None = None

    @property
    def notice(self) -> str:
        if self.crisis:
            return CRISIS_NOTICE
        return EMERGENCY_NOTICE if self.action == "emergency" else URGENT_NOTICE

    def matches(self, plain: str) -> bool:
        """Whether the normalised message ``plain`` shows this red flag."""
        if self.unless is not None and self.unless.search(plain):
            return False
        return any(
            not (self.negatable and negated(plain, match.start()))
            for pattern in self.patterns
            for match in pattern.finditer(plain)
        )


def _rule(
    name: str,
    description: str,
    patterns: tuple[str, ...],
    source: str,
    action: Action = "emergency",
    unless: str | None = None,
    **flags: bool,
) -> RedFlagRule:
    compiled = tuple(re.compile(pattern, re.DOTALL) for pattern in patterns)
    excluded = re.compile(unless, re.DOTALL) if unless else None
    return RedFlagRule(name, description, compiled, action, source, unless=excluded, **flags)


#: A sign of a combination does not count right after "no", "not", "without" or "never" ("a limp,
#: no fever"): the rule's own negation test only reads the words before the first sign.
_NOT_DENIED = r"(?<!\bno\s)(?<!\bnot\s)(?<!\bwithout\s)(?<!\bnever\s)"


def _near(first: str, second: str, gap: int = 120) -> str:
    """``first`` and ``second`` within ``gap`` characters of each other, in either order (neither
    of them just after a negation word)."""
    first, second = f"{_NOT_DENIED}(?:{first})", f"{_NOT_DENIED}(?:{second})"
    return rf"{first}.{{0,{gap}}}?{second}|{second}.{{0,{gap}}}?{first}"


def _together(*signs: str, gap: int = 120) -> str:
    """All of ``signs``, in any order, each within ``gap`` characters of the next (none of them
    just after a negation word)."""
    between = f".{{0,{gap}}}?"
    return "|".join(
        between.join(f"{_NOT_DENIED}(?:{sign})" for sign in order) for order in permutations(signs)
    )


def _two_of(*signs: str, gap: int = 120) -> str:
    """Any two different ones of ``signs``, in either order, within ``gap`` characters."""
    return "|".join(_near(first, second, gap) for first, second in combinations(signs, 2))


_CANT = r"(?:can'?t|cannot|can\s+not|couldn'?t|unable\s+to)"
_SUDDEN = r"(?:sudden(?:ly)?|all\s+of\s+a\s+sudden|out\s+of\s+nowhere)"
_SEVERE = (
    r"(?:severe|excruciating|unbearable|agoni[sz]ing|extreme|intense|terrible|horrible|"
    r"worst|crushing|tearing|ripping|really\s+bad|very\s+bad)"
)

# --- heart ---
_CHEST_PAIN = (
    r"\b(?:chest|breast\s*bone|sternum)\s+(?:[\w']+\s+){0,4}?(?:pains?|ache|aching|hurts?|hurting|"
    r"pressure|tightness|tight|heaviness|heavy|discomfort|squeez\w*|crush\w*)|"
    r"\b(?:pains?|ache|pressure|tightness|heaviness|discomfort|squeez\w*|crush\w*|weight|"
    r"(?:heavy|tight|squeezing|crushing|pressing)\s+(?:feeling|sensation))\s+"
    r"(?:\w+\s+){0,3}?(?:in|on|across|around|at|behind|of)\s+(?:the\s+(?:middle|centre|center|"
    r"front|left\s+side)\s+of\s+)?(?:my|his|her|their|the)\s+"
    r"(?:chest|breast\s*bone|sternum)|\bangina\b|"
    r"\b(?:clutch\w*|grabb\w*|gripping|holding|pressing\s+on)\s+(?:at\s+)?(?:my|his|her|their)\s+"
    r"chest|"
    r"\b(?:band|belt|weight|elephant|vice|vise|something\s+heavy)\s+(?:[\w']+\s+){0,4}?(?:around|"
    r"round|on|across|sitting\s+on|pressing\s+on|crushing)\s+(?:my|his|her|their|the)\s+chest|"
    r"\b(?:tight|heavy|painful|crushing|squeezing)\s+chest\b"
)
_HEART_SIGN = (
    r"\b(?:arms?|jaw|neck|shoulders?|back|sweat\w*|clammy|short(?:ness)?\s+of\s+breath|"
    r"breathless\w*|nause\w*|vomit\w*|throw\w*\s+up|being\s+sick|feel\w*\s+sick|"
    r"light[\s-]?headed\w*|dizz\w*|faint\w*|pass(?:ed|ing)?\s+out|walk\w*|climb\w*|stairs|"
    r"exercis\w*|exert\w*|running|crush\w*|squeez\w*|elephant|radiat\w*|spread\w*|choking)\b|"
    rf"{_CANT}\s+breathe|(?:hard|difficult|difficulty|trouble)\s+(?:to\s+)?breath\w*"
)
_BREATHLESS = (
    r"short(?:ness)?\s+of\s+breath|breathless\w*|out\s+of\s+breath|"
    r"(?:can'?t|cannot|unable\s+to)\s+catch\s+(?:my|his|her|their)\s+breath|"
    r"(?:struggl\w*|fighting|battling)\s+(?:to\s+breathe|for\s+(?:breath|air))|"
    rf"{_CANT}\s+breathe|(?:hard|difficult|difficulty|trouble)\s+(?:to\s+|in\s+)?breath\w*"
)
_SWEAT = r"\bsweat\w*|\bclammy|\bperspir\w*|\bdrenched"
# Pain spreading to (or felt only in) the jaw, an arm, the neck or the upper back.
_HEART_REFERRED_PAIN = (
    r"\b(?:jaw|arms?|neck|shoulders?|upper\s+back|shoulder\s*blades?)\s+(?:[\w']+\s+){0,4}?"
    r"(?:pains?|painful|ache[sd]?|aching|hurts?|hurting|heavy|heaviness|tight\w*|numb\w*)\b|"
    r"\b(?:pains?|ache|aching|heaviness|tightness)\s+(?:\w+\s+){0,3}?(?:in|down|into|up|to|"
    r"through|across|between|behind)\s+(?:\w+\s+){0,2}?(?:jaw|arms?|neck|shoulders?|upper\s+"
    r"back)\b"
)
_UNWELL_SIGN = (
    r"\bnause\w*|\bqueasy|\bsick\s+to\s+(?:my|his|her)\s+stomach|\b(?:i'?m|he'?s|she'?s|am|is|"
    r"been|going\s+to\s+be)\s+(?:\w+\s+)?sick\b|\bfeel\w*\s+(?:\w+\s+)?(?:sick|faint|dizzy|"
    r"light[\s-]?headed|"
    r"awful|terrible|unwell)|\bvomit\w*|\bthrow\w*\s+up|\bbreathless\w*|\bshort(?:ness)?\s+of\s+"
    rf"breath|\bdizz\w*|\blight[\s-]?headed|\bfaint\w*|\bgr[ae]y\b|\bpale\b|{_SUDDEN}"
)
# --- stroke: face, arm, speech ---
_FACE_ODD = (
    r"\b(?:face|mouth|smile|lips?|eyelid)\s+(?:[\w']+\s+){0,4}?(?:lopsided|crooked|uneven|"
    r"droop\w*|dropp\w*|slant\w*|twisted|sag\w*|slipped|fallen|one[\s-]sided|numb|pulled\s+to\s+"
    r"one\s+side)|\b(?:lopsided|crooked|droopy|drooping|uneven|twisted|sagging)\s+(?:\w+\s+)?"
    r"(?:face|mouth|smile)|\bone\s+side\s+of\s+(?:\w+\s+){0,2}?(?:face|mouth)\b"
)
_LIMB_WEAK = (
    r"\b(?:arm|leg|hand|side|fingers)\s+(?:[\w']+\s+){0,3}?(?:weak\w*|numb\w*|heavy|dead|useless|"
    r"limp|floppy|paraly\w*|won'?t\s+(?:move|work))|\b(?:weak\w*|numb\w*|heaviness|paraly\w*)\s+"
    rf"(?:\w+\s+){{0,3}}?(?:arm|leg|hand|side)\b|{_CANT}\s+(?:\w+\s+)?(?:hold|grip|lift|raise|"
    r"move)\s+(?:\w+\s+){0,3}?(?:cup|mug|glass|pen|spoon|fork|arm|leg|hand|side|face|things?|"
    r"anything)\b|"
    r"\bdropp\w*\s+(?:things|everything|(?:my|his|her|the)\s+(?:cup|mug|glass|phone|pen|"
    r"spoon|fork))"
)
_SPEECH_ODD = (
    r"\bslurr\w*|\b(?:talk\w*|speak\w*|speech|voice)\s+(?:\w+\s+){0,3}?(?:funny|strange\w*|"
    r"weird\w*|odd\w*|gibberish|nonsense|garbled|jumbled|muddled|drunk|thick)\b|\bwords?\s+"
    r"(?:[\w']+\s+){0,4}?(?:wrong|jumbled|garbled|muddled|mixed\s+up)|"
    rf"{_CANT}\s+(?:\w+\s+){{0,2}}?(?:speak|talk|get\s+(?:\w+\s+)?words\s+out|find\s+(?:the\s+|"
    r"my\s+|his\s+|her\s+)?words|understand\s+(?:what\s+)?(?:he|she|him|her|i|we|you|people|"
    r"anyone|anything))\b|"
    r"\bnot\s+making\s+(?:any\s+)?sense"
)
# --- pregnancy and babies ---
_PREGNANT = (
    r"\bpregnan\w*|\b\w+\s+weeks?\s+(?:pregnant|along|gestation)|"
    r"\bexpecting\s+(?:\w+\s+){0,2}?(?:baby|child|twins)|\bmiscarr\w*|"
    r"\b(?:gave|given|giving)\s+birth|\bafter\s+(?:\w+\s+)?(?:delivery|birth|c[\s-]?section)|"
    r"\bpost[\s-]?partum|\bpostnatal|\b(?:abortion|mtp)\s+(?:pills?|kit|tablets?)|"
    r"\b(?:after|since)\s+(?:\w+\s+)?(?:abortion|mtp|d\s*&\s*c)\b"
)
_PREGNANT_NOW = (
    r"\b(?:i'?m|i\s+am|she'?s|she\s+is|wife\s+is|being|while|currently)\s+"
    r"(?:(?!not\b|never\b)[\w']+\s+){0,3}?pregnant|\b\w+\s+weeks?\s+pregnant|\bduring\s+(?:my\s+|her\s+)?pregnancy|"
    r"\bpregnant\s+(?:woman|wife|lady|and)"
)
_YOUNG_BABY = (
    r"(?<![\d.])(?:[0-9]|1[0-2])\s*-?\s*(?:weeks?|wks?)\s*-?\s*old|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s*-?\s*weeks?\s*-?\s*"
    r"old|(?<![\d.])(?:[12]|one|two)\s*-?\s*months?\s*-?\s*old|"
    r"(?<![\d.])\d{1,2}\s*-?\s*days?\s*-?\s*old|\bnew[\s-]?born|\bneonat\w*"
)
_FEVER = (
    r"\bfever\w*|\btemperature|\btemp\b|\bfeels?\s+(?:very\s+|really\s+)?hot\b|\bburning\s+up|"
    r"\b3[89](?:[.,]\d)?\s*(?:\u00b0|degrees?|c\b)|\b10[0-4](?:\.\d)?\s*(?:\u00b0|degrees?|f\b)"
)
_CHILD = r"\b(?:baby|babies|infant|newborn|toddler|child|kid|son|daughter|little\s+one)\b"
_CHILD_AGED = (
    rf"{_CHILD}|\b(?:grand)?(?:son|daughter)\b|\b(?:\d{{1,2}}|one|two|three|four|five)\s*-?\s*"
    r"(?:years?|yrs?|months?)\s*-?\s*old\b|\b\d{1,2}\s*-?\s*(?:yo|y/o|y\.o|mo|m/o|mos)\b"
)
#: A pregnancy that may be early: a late period, a positive test, 4 to 12 weeks pregnant.
_EARLY_PREGNANCY = (
    r"\bperiods?\s+(?:is\s+|are\s+|was\s+)?(?:\w+\s+){0,3}?(?:late|overdue)|\b(?:missed|late|no)\s+"
    r"(?:\w+\s+)?periods?\b|\bpositive\s+(?:pregnancy\s+|home\s+)?test|\bearly\s+pregnan\w*|"
    r"\b(?:[4-9]|1[0-2]|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+weeks?\s+"
    r"(?:pregnant|along|gestation)|\b(?:might|could|may)\s+be\s+pregnant|\bectopic|"
    r"\blast\s+period\s+(?:was\s+)?(?:\w+\s+){0,2}?(?:[5-9]|1[0-2]|five|six|seven|eight|nine|ten|"
    r"eleven|twelve)\s+weeks\s+ago|\bhaven'?t\s+(?:had|got|gotten)\s+(?:a|my)\s+period"
)
#: Weeks of a pregnancy's second half ("34 weeks"), or a pregnancy named outright.
_LATER_PREGNANCY = (
    rf"{_PREGNANT}|(?<!for\s)(?<!last\s)(?<!past\s)(?<!over\s)\b(?:1[6-9]|[23]\d|4[0-2])\s*"
    r"(?:\+\s*\d\s*)?(?:weeks?|wks?)\b(?!\s*-?\s*old|\s+ago)|"
    r"\b(?:third|3rd|second|2nd|last)\s+trimester"
)
_HIGH_FEVER = (
    r"\b(?:temperature|temp|fever)\s+(?:\w+\s+){0,3}?(?:3[89]|4[01]|10[0-4])\b|"
    r"\b(?:3[89]|4[01])(?:[.,]\d)?\s*(?:\u00b0|degrees?|c\b)|\b10[0-4](?:[.,]\d)?\s*(?:\u00b0|"
    r"degrees?|f\b)|\bhigh\s+(?:fever|temperature|temp)\b|\b(?:have|got|had|has|running|with|"
    r"developed)\s+(?:a\s+)?(?:\w+\s+)?(?:fever|temperature)\b|\bfeverish|\bshiver\w*|"
    r"\bchills\b|\brigors\b"
)
# --- poisons ---
_MEDS = (
    r"pills|tablets|meds|medicines?|medications?|capsules|paracetamol|acetaminophen|tylenol|"
    r"panadol|ibuprofen|advil|aspirin|antidepressants?|insulin|painkillers|sleeping\s+pills"
)
_POISON = (
    r"bleach|detergent|laundry\s+(?:pods?|capsules?|liquid)|dishwasher\s+(?:tablets?|liquid)|"
    r"washing[\s-]+up\s+liquid|antifreeze|weed\s*killer|pesticides?|insecticides?|"
    r"rat\s+poison|poison\w*|button\s+batter(?:y|ies)|batter(?:y|ies)|magnets?|"
    r"cleaning\s+(?:products?|fluid|liquid|spray)|(?:drain|oven|toilet)\s+cleaner|"
    r"paint\s+thinner|white\s+spirit|turpentine|kerosene|paraffin|petrol|gasoline|lamp\s+oil|"
    r"lighter\s+fluid|methanol|wild\s+mushrooms?|poisonous\s+\w+|e-?liquid|vape\s+(?:liquid|juice)|"
    r"nicotine\s+liquid|mouthwash|hand\s+saniti[sz]\w*|battery\s+acid|\blye\b|"
    r"(?:washing|laundry|detergent|dishwasher|wash)\s+(?:\w+\s+){0,2}?(?:pods?|capsules?|tabs?)|"
    r"liquitabs?|coin\s+cells?|anti-?freeze|coolant|screen\s*wash|brake\s+fluid|de-?icer"
)
_SWALLOWED_BY_CHILD = (
    r"\b(?:swallowed|ate|eaten|chewed|sucked|got\s+into|(?:might|may|could|must)\s+have\s+"
    r"(?:had|taken|swallowed|eaten|chewed))\s+(?:\w+\s+){0,2}?(?:of\s+)?(?:[\w']+\s+){0,3}?"
    rf"(?:pills?|tablets?|{_MEDS}|{_POISON})\b"
)
_TESTIS = (
    r"(?:testic\w*|testes|testis|balls?\b(?!\s+of\s+(?:\w+\s+)?(?:foot|feet|thumb|hand))|scrotum|"
    r"scrotal|nut\s*sack|(?:my|his|your)\s+(?:left\s+|right\s+)?nuts?\b)"
)
# --- the back, for cauda equina; the head, for head injuries ---
_BACK = (
    r"\bback\s+(?:pain|ache|injury|problems?)|\b(?:lower|upper|my)\s+back\b|\bbackache|\bspin(?:e|al)\b|"
    r"\bsciatica|\b(?:slipped|herniat\w*|bulging|prolapsed)\s+(?:\w+\s+)?dis[ck]|\blumbar|\bl[45]\b"
)
_HEAD_HIT = (
    r"\b(?:hit|banged|bumped|knocked|struck|injured|hurt|smashed|cracked)\s+(?:\w+\s+){0,2}?"
    r"(?:head|skull)|\bhead\s+(?:injury|injuries|trauma|knock|bump|wound)|\bconcussion|"
    r"\b(?:fell|fall|fallen|falling)\s+(?:\w+\s+){0,5}?(?:on|onto)\s+(?:\w+\s+)?(?:head|skull)"
)
# --- the eye ---
_EYE_PAIN = (
    r"\beyes?\s+(?:[\w']+\s+){0,5}?(?:pain\w*|hurts?|hurting|sore|aching|throbb\w*|agony)\b|"
    r"\b(?:pain\w*|ache|aching|throbbing)\s+(?:in|behind|around)\s+(?:\w+\s+){0,2}?eyes?\b|"
    r"\beye\s*(?:pain|ache)|\b(?:painful|sore|aching|throbbing)\s+(?:\w+\s+)?eyes?\b"
)
_EYE_ALARM = (
    r"\bcontact\s*lens\w*|\bcontacts\b|\blights?\s+(?:\w+\s+){0,2}?(?:hurts?|hurting|painful|"
    rf"bothers?)|\bphotophob\w*|\bsensitiv\w*\s+to\s+(?:bright\s+)?light|{_CANT}\s+(?:stand|bear|"
    r"tolerate|look\s+at)\s+(?:bright\s+|the\s+)?light|\bblurr\w*|\bhazy|\bcloudy\s+vision|"
    r"\bvision\s+(?:\w+\s+){0,3}?(?:blurr\w*|cloudy|hazy|dim|misty)|\bhalos?\b|\brainbows?\s+"
    rf"(?:\w+\s+)?(?:a?round)\s+lights|{_CANT}\s+see\s+(?:properly|clearly|well)"
)
_EYE_HARM = (
    r"(?:chemicals?|bleach|acid|alkali|lime|cement|plaster|ammonia|oven\s+cleaner|drain\s+cleaner|"
    r"cleaning\s+(?:\w+\s+)?(?:spray|liquid|fluid|product)|detergent|dishwasher\s+\w+|pepper\s+spray|"
    r"laundry\s+(?:pods?|liquid)|hair\s+dye|glue)"
)
# --- breathing, lungs and legs: pulmonary embolism, DVT ---
_COUGHED_BLOOD = (
    r"\bcough\w*\s+(?:up\s+)?(?:\w+\s+){0,3}?(?:blood|bloody|clots)\b(?!\s+(?:test|pressure|sugar))|"
    r"\b(?:blood|bloody)\s+(?:in\s+(?:my\s+|the\s+)?)?(?:sputum|phlegm|spit|mucus)|\bspit\w*\s+"
    r"(?:up\s+|out\s+)?(?:\w+\s+)?blood|\bh(?:a)?emoptysis"
)
_PLEURITIC = (
    r"\b(?:sharp|stabbing|knife[\s-]like)\s+(?:\w+\s+){0,3}?pains?\s+(?:\w+\s+){0,4}?(?:when|as|if|"
    r"every\s+time)\s+(?:i\s+|he\s+|she\s+)?(?:breathe|take\s+a\s+(?:deep\s+)?breath|inhale|"
    r"breathing)|\bhurts\s+to\s+(?:breathe|take\s+a\s+(?:deep\s+)?breath)"
)
_CLOT_RISK = (
    r"\b(?:long|\d+[\s-]*(?:hours?|hrs?|h))[\s-]+(?:\w+\s+)?(?:flight|haul|drive|journey|car\s+"
    r"ride|bus\s+ride|train\s+ride)|\blong[\s-]+haul|\b(?:flew|flight|flights|flying)\b|"
    r"\b(?:after|since|following)\s+(?:\w+\s+){0,2}?(?:surgery|"
    r"operation|op\b|c[\s-]?section|caesarean|cesarean|giving\s+birth|hip\s+replacement|knee\s+"
    r"replacement)|\b(?:on|taking)\s+(?:the\s+)?(?:contraceptive\s+|birth\s+control\s+)?pill\b|"
    r"\bhrt\b|\bimmobil\w*|\bbed[\s-]?(?:bound|ridden)|\b(?:dvt|blood\s+clots?)\b|\b(?:plaster\s+"
    r"cast|in\s+a\s+cast)|\b(?:calf|leg)\s+(?:[\w']+,?\s+){0,4}?(?:swollen|swelling)"
)
_LEG_SWOLLEN = (
    r"\b(?:calf|calves|leg|thigh|shin)\s+(?:[\w']+,?\s+){0,4}?(?:swollen|swelling|swelled|puffy|"
    r"bigger|fatter)|\b(?:swollen|swelling\s+(?:of|in)\s+(?:my|his|her|the))\s+(?:\w+\s+)?"
    r"(?:calf|leg|thigh)\b"
)
_WARM_OR_RED = r"\bwarm\b|\bhot\b|\bred\b|\breddish|\bredness|\bdiscolou?r\w*|\bbluish|\bpurpl\w*"
_SORE = (
    r"\bpain\w*|\bsore\b|\btender\w*|\bache[sd]?\b|\baching|\bhurts?\b|\bhurting|\bthrobb\w*|"
    r"\bcramp\w*|"
    r"\bagony"
)
# --- the urine and the kidneys ---
_UTI = (
    r"\b(?:burn\w*|sting\w*|pain\w*|hurts?)\s+(?:\w+\s+){0,3}?(?:when|while|as|to)\s+(?:i\s+|he\s+|"
    r"she\s+)?(?:pee|wee|urinat|pass\w*\s+(?:urine|water))\w*|\b(?:utis?|urine\s+infection|"
    r"urinary\s+(?:tract\s+)?infection|bladder\s+infection|cystitis|water\s+infection)\b|"
    r"\bpainful\s+(?:urination|peeing)|\bdysuria|\bburning\s+(?:pee|wee|urine|urination)|"
    r"\b(?:pee|wee|urine)\s+(?:\w+\s+)?(?:burns|stings|is\s+burning)|\b(?:peeing|weeing|urinating|urination)\s+"
    r"(?:\w+\s+)?(?:hurts|burns|stings|is\s+painful)"
)
_FLANK_PAIN = (
    r"\b(?:side|flank|loin|kidneys?)\s+(?:[\w']+\s+){0,3}?(?:pain\w*|ache[sd]?|aching|hurts?|sore|"
    r"tender)|\b(?:pain\w*|ache|aching|hurts?|sore)\s+(?:\w+\s+){0,5}?(?:side|flank|loin|kidneys?|"
    r"back)\b"
)
# --- the belly: appendicitis ---
_LOWER_RIGHT = (
    r"\b(?:lower|bottom)[\s-]+right\b(?:[\s-]+hand)?(?:\s+side)?(?!\s+(?:(?:side\s+)?of\s+(?:\w+\s+)?)?"
    r"(?:back|leg|arm|foot|knee|hip|eye|ear|tooth|teeth|molar|wisdom|jaw|chest|breast|lung|neck|"
    r"head|face|thigh|buttock|shoulder|gum))|\bright\s+(?:lower|iliac)\s+(?:quadrant|fossa|"
    r"abdomen|tummy|belly|stomach|side)|\bright\s+side\s+of\s+(?:my\s+|his\s+|her\s+|the\s+)?"
    r"lower\s+(?:tummy|abdomen|stomach|belly)"
)
_WORSE_ON_MOVING = (
    r"\bworse\s+(?:when|if|as)\s+(?:i\s+|he\s+|she\s+)?(?:walk|move|cough|sneeze|jump)\w*|\bhurts?\s+"
    r"(?:\w+\s+)?(?:to\s+|when\s+(?:i\s+|he\s+|she\s+)?)(?:walk|move|cough|sneeze|jump)|"
    rf"{_CANT}\s+(?:walk|stand)\s+(?:up\s+)?(?:straight|properly|upright)|\b(?:walking|moving|"
    r"coughing)\s+(?:\w+\s+)?(?:hurts|makes\s+it\s+worse)|\bbumps?\s+in\s+the\s+road"
)
# --- the throat ---
_THROAT = r"\bthroat|\btonsils?\b|\btonsillitis|\bstrep\b"
_QUINSY_SIGN = (
    rf"{_CANT}\s+(?:\w+\s+){{0,2}}?open\w*\s+(?:\w+\s+)?(?:mouth|jaw)|\b(?:hardly|barely)\s+(?:\w+\s+)?"
    r"open\s+(?:\w+\s+)?(?:mouth|jaw)|\btrismus|\bswallow\w*\s+(?:\w+\s+){0,2}?(?:own\s+)?(?:saliva|"
    r"spit)\b|\b(?:saliva|spit)\s+(?:\w+\s+){0,3}?(?:hurts|painful)|\bmuffled\s+voice|\bhot\s+"
    rf"potato|\buvula\s+(?:\w+\s+){{0,3}}?(?:pushed|moved|shifted|to\s+one\s+side)|{_CANT}\s+"
    r"swallow\s+(?:anything|at\s+all|water|fluids|liquids|drinks)|\bdrool\w*\b.{0,60}?"
    rf"{_CANT}\s+swallow|{_CANT}\s+swallow\b.{{0,60}}?\bdrool\w*"
)

# --- rule set 3: shared signs ---
_HEADACHE = r"\bheadaches?\b|\bhead\s*aches?\b|\bpain\s+in\s+(?:\w+\s+){0,2}?head\b"
_LIGHT_HURTS = (
    r"\blights?\s+(?:\w+\s+){0,2}?(?:hurts?|hurting|painful|bothers?)|\bphotophob\w*|"
    r"\bsensitiv\w*\s+to\s+(?:bright\s+|the\s+)?light|"
    rf"{_CANT}\s+(?:stand|bear|tolerate|look\s+at)\s+(?:bright\s+|the\s+)?lights?|"
    r"\b(?:dislikes?|hates?)\s+(?:bright\s+|the\s+)?light"
)
_STIFF_NECK = (
    r"\bstiff\s+neck|\bneck(?:'s|\s+is|\s+feels|\s+has\s+gone|\s+went|\s+got)?\s+(?:very\s+|really\s+|"
    rf"so\s+|a\s+bit\s+)?stiff\b|{_CANT}\s+(?:bend|touch|put)\s+(?:\w+\s+){{0,2}}?chin"
)
#: Confusion as a state of mind, not "confused about the results".
_CONFUSED = (
    r"\bconfus\w*\b(?!\s+(?:about|by|as\s+to|regarding|whether|if|between|with|on|over)\b)|"
    r"\bconfused\s+about\s+where|\bmuddled|\bdisorient\w*|\bdelirious|\bdelirium|"
    r"\b(?:doesn'?t|didn'?t|does\s+not)\s+know\s+(?:where\s+(?:he|she|they)\s+(?:is|are|was)|"
    r"what\s+day|what\s+year|who\s+(?:i|we)\s+(?:am|are)|(?:his|her|their)\s+own\s+name)|"
    r"\bnot\s+making\s+(?:any\s+)?sense|\btalking\s+(?:nonsense|gibberish|rubbish)"
)
_HALLUCINATING = (
    r"\bhallucinat\w*|\bseeing\s+(?:things|people|animals|insects|bugs|spiders|faces)\s+(?:that\s+|"
    r"who\s+|which\s+)?(?:aren'?t|are\s+not|isn'?t|is\s+not|wasn'?t|weren'?t)\s+(?:really\s+)?there|"
    r"\bseeing\s+things\b|\bhearing\s+(?:voices|things)|\bvoices\s+(?:\w+\s+){0,2}?(?:telling|"
    r"talking|speaking|in\s+(?:her|his|my)\s+head)"
)
_VOMITING = r"\bvomit\w*|\bthrow\w*\s+up|\bthrew\s+up|\b(?:been|being|keeps?\s+being)\s+sick\b"
_DIABETES = (
    r"\bdiabet\w*|\binsulin|\btype\s*(?:1|one)\b|\bhypo\b|\blow\s+(?:blood\s+)?sugar|"
    r"\bgliclazide|\bsulfonylurea"
)
# --- rule set 3: the belly, the bottom and the bladder ---
_BELLY = r"(?:tummy|belly|stomach|abdomen|abdominal|middle)"
_BELLY_TO_BACK = (
    rf"\b(?:pains?|ache|agony|aching)\s+(?:[\w']+\s+){{0,6}}?{_BELLY}\b\s+(?:[\w']+\s+){{0,5}}?"
    r"(?:into|through\s+to|through|to|towards|round\s+to|spreading\s+to)\s+(?:\w+\s+){0,2}?back\b|"
    rf"\b{_BELLY}\s+(?:[\w']+\s+){{0,3}}?(?:pains?|ache|agony)\s+(?:[\w']+\s+){{0,5}}?(?:into|through"
    r"\s+to|through|to|towards|round\s+to)\s+(?:\w+\s+){0,2}?back\b"
)
_NO_WIND = (
    rf"\b(?:haven'?t|hasn'?t|have\s+not|has\s+not|not|{_CANT}|no\s+longer)\s+(?:\w+\s+){{0,3}}?"
    r"(?:pass\w*\s+(?:any\s+)?(?:wind|gas)|fart\w*|broken\s+wind|break\s+wind)"
)
_NO_POO = (
    rf"\b(?:haven'?t|hasn'?t|have\s+not|has\s+not|not|{_CANT})\s+(?:\w+\s+){{0,3}}?(?:pooed|pooped|"
    r"had\s+a\s+(?:poo|bowel\s+movement|number\s+two)|opened\s+(?:my|his|her)\s+bowels)|"
    r"\bno\s+(?:bowel\s+movements?|poo|stools?)\s+(?:for|in|since)\b"
)
_SWOLLEN_BELLY = (
    r"\b(?:tummy|belly|stomach|abdomen)\s+(?:[\w']+\s+){0,3}?(?:swollen|distended|bloated|rock\s+"
    r"hard|tight\s+as|like\s+a\s+drum|blown\s+up|swelled|swelling)|\b(?:swollen|distended|"
    r"bloated)\s+(?:\w+\s+)?(?:tummy|belly|stomach|abdomen)"
)
_GREEN_VOMIT = (
    r"\b(?:vomit\w*|throw\w*\s+up|threw\s+up|sick|bring\w*\s+up|brought\s+up)\s+(?:\w+\s+){0,3}?"
    r"(?:green|bile|bilious|brown\s+(?:fluid|liquid)|smells?\s+(?:like|of)\s+poo|fa?ecal)\b|"
    r"\b(?:green|bilious)\s+(?:vomit|sick)"
)
# --- rule set 3: poisons that nobody drinks on purpose ---
_HOUSEHOLD_POISON = (
    r"anti-?freeze|coolant|radiator|screen\s*wash|brake\s+fluid|de-?icer|white\s+spirit|turps|"
    r"turpentine|paint\s+thinners?|bleach|(?:drain|oven|toilet)\s+cleaner|weed\s*killer|"
    r"pesticides?|insecticides?|slug\s+pellets|rat\s+poison|methanol|meths|lighter\s+fluid|"
    r"lamp\s+oil|paraffin|kerosene|petrol|gasoline|e-?liquid|vape\s+(?:liquid|juice)|"
    r"nicotine\s+liquid|button\s+batter(?:y|ies)|coin\s+(?:cell|batter(?:y|ies))|batter(?:y|ies)|"
    r"magnets?|(?:washing|laundry|detergent|dishwasher|wash)\s+(?:\w+\s+){0,2}?(?:pods?|capsules?|"
    r"tabs?|tablets?|liquid|gel)|liquitabs?"
)
_INGESTED = (
    r"\b(?:drank|drunk|drink|drinking|swallowed|swallowing|ingested|gulped|swig|sip|mouthful|"
    r"bit\s+(?:into|on)|bitten|chewed|chewing|sucked|sucking|licked|ate|eaten)\b|\bin\s+"
    r"(?:his|her|their|my)\s+mouth"
)
_MIXED_CHEMICALS = (
    r"\bmix\w*\s+(?:\w+\s+){0,4}?(?:bleach|ammonia|chlorine|cleaning\s+products?|chemicals?|"
    r"cleaners?|descaler)|\b(?:bleach|ammonia|chlorine)\s+(?:\w+\s+){0,2}?(?:and|with)\s+"
    r"(?:\w+\s+){0,3}?(?:ammonia|vinegar|acid|toilet|descaler|limescale|cleaner|bleach|spray)\b|"
    r"\b(?:chemical|chlorine|toxic|bleach|ammonia)\s+(?:fumes|gas|vapou?rs?)|"
    r"\b(?:inhal\w*|breath\w*\s+in)\s+(?:\w+\s+){0,3}?(?:fumes|gas|smoke|chemicals?|vapou?rs?|"
    r"bleach)|\bsmoke\s+inhal\w*|\bfumes\b"
)
_CHEST_TIGHT = (
    r"\bchest\s+(?:is\s+|feels\s+|has\s+gone\s+|went\s+)?(?:\w+\s+)?tight\w*|"
    r"\btight\w*\s+(?:\w+\s+)?chest"
)
_AIRWAY_SIGN = (
    rf"{_BREATHLESS}|\bwheez\w*|{_CHEST_TIGHT}|\bcough\w*\s+(?:\w+\s+)?(?:non[\s-]?stop|"
    rf"constantly|uncontrollabl\w*)|{_CANT}\s+stop\s+cough\w*|\bthroat\s+(?:\w+\s+){{0,2}}?"
    r"(?:burn\w*|closing)|\blips?\s+(?:\w+\s+)?(?:turning\s+|gone\s+|going\s+)?blue"
)
# --- rule set 3: carbon monoxide ---
_CO_SYMPTOM = (
    r"\bheadaches?|\bdizz\w*|\bnause\w*|\bfe(?:el|lt)\w*\s+(?:\w+\s+)?sick|\bvomit\w*|\bdrowsy|"
    r"\blethargic|\bconfus\w*|\bbreathless\w*|\bcollaps\w*|\bflu[\s-]like"
)
_CO_APPLIANCE = (
    r"\bboiler|\bgas\s+(?:fire|heater|stove|cooker|hob|appliance|leak)|\b(?:paraffin|kerosene|"
    r"portable|gas|oil)\s+heater|\bwood\s*(?:burner|stove)|\bfireplace|\bchimney|\bflue\b|"
    r"\bgenerator|\b(?:bbq|barbecue)\s+(?:inside|indoors|in\s+the\s+(?:tent|garage))|\bcar\s+"
    r"(?:running|engine\s+running)\s+in\s+(?:the\s+)?garage"
)
_CO_FAULT = (
    r"\b(?:yellow|orange|lazy|floppy)\s+flames?|\bflames?\s+(?:\w+\s+){0,5}?(?:yellow|orange)\b|"
    r"\bsoot\w*|\bblack\s+(?:marks|stains)\s+(?:\w+\s+){0,3}?(?:boiler|fire|heater)|"
    r"\b(?:co|carbon\s+monoxide)\s+(?:alarm|detector)\s+(?:\w+\s+){0,3}?(?:go\w*\s+off|went\s+off|"
    r"beep\w*|sound\w*)|\bcarbon\s+monoxide"
)
_CO_SHARED = (
    r"\b(?:everyone|everybody|all\s+of\s+us|both\s+of\s+us|the\s+whole\s+(?:family|house(?:hold)?)|"
    r"we\s+all|we'?ve\s+all|we\s+have\s+all|all\s+(?:the\s+)?(?:family|kids|children))\b|"
    r"\b(?:the\s+kids|the\s+children|my\s+(?:wife|husband|partner|kids|children))\s+and\s+i\b|"
    r"\b(?:my|the|our)\s+(?:wife|husband|partner|kids|children|flatmates?|housemates?)\s+(?:\w+\s+)?"
    r"(?:too|also|as\s+well)\b|\bthe\s+(?:dog|cat|pets?)\s+(?:\w+\s+){0,3}?(?:too|also|ill|sick|"
    r"lethargic|unwell|sleepy|poorly)\b"
)
_CO_AWAY = (
    r"\b(?:better|fine|ok|okay|go(?:es)?\s+away|clears?\s+up|disappears?|improves?)\s+(?:\w+\s+)"
    r"{0,4}?(?:when|once|after|if)\s+(?:\w+\s+){0,2}?(?:out|outside|away|leave|left|at\s+work|"
    r"at\s+school|on\s+holiday)\b|\b(?:only|worse)\s+(?:\w+\s+){0,2}?(?:at\s+home|in\s+the\s+house|"
    r"indoors)\b|\b(?:better|fine|ok|okay)\s+(?:\w+\s+){0,2}?(?:at\s+(?:work|school|college|uni)|"
    r"outside|out\s+of\s+the\s+house|away\s+from\s+(?:home|the\s+house)|on\s+holiday)\b"
)
# --- rule set 3: breathing in babies and children ---
_INFANT = (
    rf"{_YOUNG_BABY}|\b(?:baby|babies|infant|newborn)\b|(?<![\d.])(?:[1-9]|1\d|2[0-3]|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|eleven|twelve)\s*-?\s*(?:months?|mo)\s*-?\s*old\b"
)
_APNOEA = (
    r"\b(?:stops?|stopped|stopping|pauses?|paused|pausing)\s+(?:\w+\s+){0,2}?breathing|"
    r"\b(?:pauses?|gaps?)\s+(?:\w+\s+){0,2}?(?:in\s+)?(?:(?:his|her|their|the)\s+)?breath(?:ing|s)\b|"
    r"\bapn(?:o)?ea"
)
_FAST_BREATHING = (
    r"\bbreath\w*\s+(?:\w+\s+)?(?:really\s+|very\s+|so\s+)?(?:fast|quick\w*|rapid\w*|hard|heavily)|"
    r"\b(?:fast|rapid|quick|laboured|labored|heavy)\s+breathing|\bpanting|\bgrunt\w*|"
    r"\bhead\s+bobb\w*|\bnostrils?\s+flar\w*|\bflaring\s+(?:\w+\s+)?nostrils?"
)
_FEEDING_LESS = (
    r"\b(?:only|barely|hardly)\s+(?:\w+\s+)?(?:taking|drinking|feeding|having|finishing)\s+"
    r"(?:\w+\s+){0,2}?(?:half|a\s+little|a\s+bit|a\s+third|small|some)\b|\b(?:feeding|drinking|"
    r"taking)\s+(?:\w+\s+){0,2}?less\b|\bhalf\s+(?:of\s+)?(?:his|her|their|the|a)\s+(?:usual\s+)?"
    r"(?:feeds?|bottles?|milk)|\b(?:won'?t|not|isn'?t|refus\w*\s+to|stopped)\s+(?:\w+\s+)?(?:feed"
    r"\w*|drink\w*|tak\w*\s+(?:\w+\s+)?(?:feeds?|bottles?|milk))\b|\bfewer\s+(?:feeds|bottles)"
)
_STRIDOR = (
    r"\bstridor|\bhigh[\s-]?pitched\s+(?:\w+\s+){0,2}?(?:noise|sound|squeak\w*|whistl\w*|wheez\w*|"
    r"breath\w*|crow\w*)|\b(?:squeak\w*|whistl\w*|crowing|rasping|harsh)\s+(?:\w+\s+){0,2}?(?:noise|"
    r"sound)s?\b|\b(?:noisy|squeaky|crowing|raspy|rasping|harsh)\s+breath\w*"
)
_BREATHING_IN = (
    r"\bbreath(?:e|es|ing)?\s+in\b|\binhal\w*|\bbark\w*|\bcroup|\bat\s+rest\b|\b(?:even\s+)?when\s+"
    r"(?:he'?s|she'?s|they'?re|he\s+is|she\s+is|i'?m|resting)\s+(?:calm|resting|settled|still|quiet"
    r"|asleep|sleeping)"
)
_RECESSION = (
    r"\b(?:tummy|belly|stomach|chest|skin|ribs?|neck|throat|collar\s*bones?)\s+(?:[\w']+\s+){0,3}?"
    r"(?:suck\w*|pull\w*|sink\w*|cav\w*|draw\w*|dip\w*)\s+in\b"
)
# --- rule set 3: the mind after a birth ---
_POSTNATAL = (
    r"\b(?:had|delivered)\s+(?:our|the|a|her|my|their)\s+(?:\w+\s+)?(?:baby|son|daughter|twins|"
    r"little\s+one)\s+(?:\w+\s+){0,2}?(?:ago|last)\b|\b(?:gave|given|giving)\s+birth|\bnew\s+(?:mum|"
    r"mom|mother)|\bsince\s+(?:the\s+|her\s+|my\s+)?(?:birth|delivery|baby\s+(?:was\s+)?(?:born|"
    r"arrived|came))|\bpost[\s-]?partum|\bpost[\s-]?natal|\bpuerper\w*|\bbaby\s+blues|"
    r"\b(?:after|since)\s+(?:having|the|her|my)\s+(?:the\s+)?(?:baby|birth|delivery|c[\s-]?section)\b|"
    r"\bjust\s+(?:had|given\s+birth\s+to|delivered)\s+(?:a|our|the|her|my)\s+(?:\w+\s+)?(?:baby|son|"
    r"daughter|twins)"
)
_PSYCHOSIS_SIGN = (
    rf"{_HALLUCINATING}|\bparanoi\w*|\bdelusion\w*|\bmanic\b|\bmania\b|\b(?:thinks|believes|"
    r"convinced|keeps\s+saying|says|saying|insists)\s+(?:that\s+)?(?:the\s+|our\s+|her\s+|my\s+)?"
    r"baby\s+(?:is\s+|isn'?t\s+|was\s+|wasn'?t\s+)?(?:not\s+)?(?:really\s+)?(?:ours|hers|mine|his|"
    r"swapped|switched|evil|possessed|the\s+devil|cursed|someone\s+else'?s|an?\s+imposter|dead|in\s+"
    r"danger)|\b(?:speaking|talking|sending\s+(?:\w+\s+)?messages|communicating|watching|spying)\s+"
    r"(?:to|on|at)\s+(?:her|him|me|us)\s+through\b|\b(?:someone|people|they)\s+(?:is|are)\s+"
    r"(?:\w+\s+)?(?:watching|following|poisoning|after)\s+(?:her|him|me|us)\b|\b(?:harm\w*|hurt\w*|"
    r"kill\w*)\s+(?:the|our|my|her)\s+baby|\b(?:tv|television|telly|radio|phone|computer)\s+"
    r"(?:is\s+|was\s+|keeps\s+)?(?:\w+\s+)?(?:sending|giving|talking\s+to|speaking\s+to|controlling|"
    r"watching)\s+(?:her|him|me)\b|\bmessages\s+(?:\w+\s+){0,2}?(?:through|from|in)\s+(?:the\s+)?"
    r"(?:tv|television|telly|radio)"
)
# --- rule set 3: the limbs, the joints, the eyes ---
_LIMB_COLD = (
    r"\b(?:leg|foot|arm|hand|calf)\s+(?:[\w']+\s+){0,4}?(?:cold|white|pale|blue|bluish|grey|gray|"
    r"mottled|waxy)\b|\b(?:cold|white|pale|blue|bluish|mottled)\s+(?:and\s+\w+\s+)?(?:leg|foot|arm|"
    r"hand)\b"
)
_LIMB_DEAD = (
    rf"\bnumb\w*|{_CANT}\s+(?:\w+\s+){{0,3}}?(?:feel|move|wiggle|wriggle|lift)|\bpins\s+and\s+needles|"
    rf"\bparaly\w*|\b{_SEVERE}\s+pain|\b(?:really|very|so)\s+painful|\bagony"
)
_NOT_WEIGHT_BEARING = (
    rf"\b(?:won'?t|{_CANT}|isn'?t|not|refus\w*\s+to|stopped)\s+(?:\w+\s+)?(?:put(?:ting)?|bear(?:ing)?|"
    r"tak(?:e|ing))\s+(?:any\s+)?weight|\b(?:won'?t|refus\w*\s+to|stopped)\s+(?:\w+\s+)?(?:walk\w*|"
    r"stand\w*|crawl\w*)\b|\blimp\w*|\b(?:scream\w*|cr(?:y|ies|ied|ying)\s+out)\s+(?:\w+\s+){0,2}?"
    r"(?:when|if)\s+(?:\w+\s+){0,6}?(?:move|moving|touch|bend|lift)\w*\s+(?:his|her|their|the)\s+"
    r"(?:leg|hip|knee|arm|foot|ankle)|\bwon'?t\s+(?:let\s+(?:me|"
    r"us|anyone)\s+)?(?:move|touch|use)\s+(?:his|her|"
    r"their|the)\s+(?:leg|arm|hip|knee)"
)
#: A child or teenager (an age under 18, or a word for one).
_MINOR = (
    rf"{_CHILD}|\b(?:boy|girl|teen\w*|schoolboy|schoolgirl)\b|(?<![\d.])(?:[1-9]|1[0-7]|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen)\s*-?\s*(?:years?|yrs?|yo|y/o)\b"
)
_THIRST = (
    r"\bthirst\w*|\b(?:drinking|drinks|drink)\s+(?:\w+\s+){0,2}?(?:loads|lots|so\s+much|constantly|"
    r"all\s+the\s+time|litres|gallons|non[\s-]?stop|more\s+than\s+usual)"
)
_PEEING = (
    r"\b(?:wee|pee|urinat)\w*|\b(?:going|goes|up)\s+(?:\w+\s+){0,2}?(?:to\s+the\s+)?(?:toilet|loo|"
    r"bathroom)|\bbed[\s-]?wett\w*|\bwet(?:ting)?\s+the\s+bed|\bpolyuria"
)
_WEIGHT_LOSS = (
    r"\b(?:lost|losing|dropped|dropping)\s+(?:\w+\s+){0,3}?(?:weight|kilos?|kg|pounds|lbs|stone)|"
    r"\bweight\s+loss|\b(?:got|getting|gone|looks?)\s+(?:really\s+|very\s+|so\s+)?(?:thin|skinny|bony)"
)
_OLDER = (
    r"\b(?:i'?m|i\s+am|aged?|(?:he|she|who|mum|mom|mother|dad|father|husband|wife|partner)(?:'s|\s+is))"
    r"\s+[5-9]\d\b|\b[5-9]\d\s*-?\s*(?:years?|yrs?|yo)\b|\b(?:elderly|grandmother|grandfather|nan|"
    r"nana|gran|granny|grandma|grandad|granddad|grandpa)\b"
)
_TEMPLE_PAIN = (
    r"\b(?:pain\w*|ache|aching|headache|throbb\w*|tender\w*|sore)\s+(?:\w+\s+){0,4}?(?:in|on|at|"
    r"around|over)\s+(?:\w+\s+){0,2}?(?:temples?|side\s+of\s+(?:my|his|her|the)\s+head)\b|"
    r"\btemples?\s+(?:[\w']+\s+){0,3}?(?:pain\w*|ache[sd]?|aching|hurts?|throbb\w*|tender|sore|"
    r"swollen)|\btemporal\s+(?:headache|pain)|\bside\s+of\s+(?:my|his|her|the)\s+head\s+"
    r"(?:[\w']+\s+){0,3}?(?:pain\w*|aches?|aching|hurts?|throbb\w*|tender|sore)"
)
_SCALP_TENDER = (
    r"\bscalp\s+(?:[\w']+\s+){0,4}?(?:sore|tender|painful|hurts?|sensitive)|\b(?:sore|tender|"
    r"painful)\s+scalp|\b(?:brush\w*|comb\w*)\s+(?:my\s+|his\s+|her\s+)?hair\s+(?:\w+\s+){0,3}?"
    r"(?:hurts?|painful|sore)|\bhurts?\s+(?:\w+\s+){0,3}?(?:brush|comb)\w*\s+(?:my\s+|his\s+|her\s+)?"
    r"hair"
)
_JAW_ON_CHEWING = (
    r"\bjaw\s+(?:[\w']+\s+){0,4}?(?:pain\w*|ache[sd]?|aching|hurts?|hurting|sore|tired|cramp\w*)\s+"
    r"(?:\w+\s+){0,3}?(?:when|while|as|after|if)\s+(?:i\s+|he\s+|she\s+)?(?:chew\w*|eat\w*|talk\w*)|"
    r"\b(?:chewing|eating)\s+(?:\w+\s+){0,3}?(?:makes\s+)?(?:my\s+|his\s+|her\s+)?jaw\s+(?:\w+\s+)?"
    r"(?:ache|hurt|pain|sore|tired)|\b(?:chewing|eating)\s+(?:\w+\s+){0,2}?(?:hurts|pains)\s+"
    r"(?:my\s+|his\s+|her\s+)?jaw"
)
_VISION_CHANGE = (
    rf"\bblurr\w*|\bdouble\s+vision|\b(?:see|sees|seeing|saw)\s+double|\b(?:lost|loss\s+of|"
    r"losing)\s+(?:\w+\s+)?(?:vision|sight)|"
    r"\b(?:sight|vision)\s+(?:\w+\s+){0,2}?(?:went|goes|going|gone|turned)\s+(?:\w+\s+)?(?:blurr\w*|"
    rf"dark|dim|black|grey|funny|misty)|\b(?:curtain|shadow)\s+(?:\w+\s+){{0,2}}?(?:over|across)|"
    rf"{_CANT}\s+see\b"
)
_GIANT_CELL_ARTERITIS = "|".join(
    (
        _together(
            _OLDER, rf"{_HEADACHE}|{_TEMPLE_PAIN}", rf"{_JAW_ON_CHEWING}|{_SCALP_TENDER}", gap=200
        ),
        _together(rf"{_HEADACHE}|{_TEMPLE_PAIN}", _SCALP_TENDER, _JAW_ON_CHEWING, gap=200),
        _near(_TEMPLE_PAIN, rf"{_JAW_ON_CHEWING}|{_SCALP_TENDER}", 200),
        _near(
            r"\bgiant\s+cell|\btemporal\s+arteritis", rf"{_HEADACHE}|{_TEMPLE_PAIN}|{_SORE}", 150
        ),
    )
)
_SIDE_CHEST_PAIN = (
    rf"{_CHEST_PAIN}|\b(?:pain|ache|stabbing|stab)\s+(?:\w+\s+){{0,3}}?(?:in|on|down)\s+(?:the\s+)?"
    r"(?:left|right|one)\s+side\s+of\s+(?:my|his|her|their|the)\s+chest|\b(?:left|right|one)"
    r"[\s-]sided\s+chest\s+pain"
)
_ASTHMA = (
    r"\basthma\w*|\binhalers?|\breliever|\bpuffer|\bventolin|\bsalbutamol|\balbuterol|\bblue\s+"
    r"(?:inhaler|pump)|\bnebuli[sz]er"
)
#: A reliever that does not help, wears off fast or is needed every few hours.
_NOT_RELIEVED = (
    r"\b(?:not|isn'?t|wasn'?t|aren'?t|doesn'?t|didn'?t|hasn'?t|haven'?t|have\s+not|won'?t|barely|"
    r"hardly|no\s+longer)\s+(?:\w+\s+)?(?:helping|helped|help|working|worked|work|touching|doing\s+"
    r"(?:anything|much)|lasting|easing|eased|making\s+(?:a|any)\s+difference)\b|\b(?:only|barely|"
    r"not)\s+(?:\w+\s+)?(?:lasts?|lasting|helps?\s+for)\s+(?:\w+\s+){0,2}?(?:an?\s+hour|\w+\s+hours|"
    r"minutes|\d+\s*(?:h|hrs?|hours|mins?|minutes))\b|\b(?:every|each)\s+(?:hour|half\s+(?:an\s+)?"
    r"hour|(?:[1-4]|one|two|three|four|few|couple\s+of)\s+hours|(?:\d+|few|ten|twenty)\s+min\w*)\b|"
    r"\b(?:\d{2}|ten|twelve|fifteen|twenty|loads\s+of|lots\s+of)\s+puffs|\bmore\s+than\s+every\s+"
    r"(?:4|four)\s+hours|\bwears?\s+off\s+(?:\w+\s+)?(?:quickly|fast|straight\s+away|after)"
)
_HALOS = (
    r"\bhalos?\b|\brainbow\w*\s+(?:\w+\s+){0,2}?(?:a?round|circl\w*|rings?)|\b(?:rings?|circles?)\s+"
    r"(?:\w+\s+){0,2}?a?round\s+(?:the\s+)?lights"
)

# --- rule set 3: signs that someone is saying goodbye (two kinds together) ---
_FAREWELL_SIGN = (
    r"\bsaid\s+(?:all\s+)?(?:my|our|his|her|their)\s+goodbyes|\b(?:said|saying|say)\s+goodbye\s+to\s+"
    r"(?:everyone|everybody|people|friends|(?:my|his|her)\s+(?:friends|family|kids|children)|"
    r"them\s+all)\b|\b(?:without|before)\s+(?:them|anyone|anybody|people|(?:my|his|her)\s+\w+)\s+"
    r"(?:knowing|realising|realizing|noticing)|\b(?:wrote|written|writing|left)\s+(?:\w+\s+){0,2}?"
    r"(?:notes?|letters?)\s+(?:to|for)\s+(?:\w+\s+){0,2}?(?:family|kids|children|parents|wife|"
    r"husband|partner|everyone)\b|\bwon'?t\s+(?:need|be\s+needing)\s+(?:\w+\s+){0,3}?(?:anymore|"
    r"any\s+more|after\s+(?:tonight|tomorrow|this\s+week))"
)
_CALM_RESOLVE = (
    r"\b(?:calm|peaceful|at\s+peace|relieved|relief)\b(?:\s+[\w']+){0,6}?\s+(?:now\s+)?(?:that\s+)?"
    r"(?:it'?s|it\s+is|i'?ve|i\s+have|everything'?s|everything\s+is|the\s+decision\s+is|my\s+mind\s+"
    r"is)\s+(?:been\s+)?(?:all\s+)?(?:decided|made\s+(?:up\s+)?(?:my|the)\s+(?:mind|decision)|"
    r"planned|settled|made\s+up)\b|\bmade\s+(?:up\s+)?my\s+mind\b.{0,60}?\b(?:calm|at\s+peace|"
    r"peaceful|relieved)\b"
)
_AFFAIRS_IN_ORDER = (
    r"\b(?:affairs|things|everything)\s+in\s+order|\b(?:wrote|written|writing|made|updated|"
    r"sorted)\s+(?:out\s+)?(?:\w+\s+)?wills?\b|\b(?:rehom\w*|found\s+(?:a\s+)?(?:new\s+)?homes?\s+"
    r"for)\s+(?:\w+\s+){0,2}?(?:cat|cats|dog|dogs|pets?|rabbits?|hamsters?|birds?|fish)\b|"
    r"\b(?:given|gave|giving)\s+away\s+(?:\w+\s+){0,2}?(?:things|stuff|belongings|possessions|"
    r"everything)\b|\bcancel\w*\s+(?:\w+\s+){0,2}?(?:phone|contract|subscriptions?|direct\s+"
    r"debits?|bank\s+account|insurance)\b"
)

RULES: tuple[RedFlagRule, ...] = (
    _rule(
        "heart_attack",
        "Chest pain, pressure or tightness with sweating, breathlessness, nausea, "
        "light-headedness, pain spreading to the arm, jaw, neck or back, or brought on by "
        "exertion; or, without chest pain, pain in the jaw, arm or upper back with sweating and "
        "nausea, breathlessness or light-headedness.",
        (
            _near(_CHEST_PAIN, _HEART_SIGN),
            r"\b(?:elephant|something\s+heavy|a\s+heavy\s+weight)\s+(?:\w+\s+){0,3}?(?:on|sitting\s+on|"
            r"standing\s+on|pressing\s+(?:on|down\s+on))\s+(?:my|his|her|their|the)\s+chest|"
            r"\b(?:someone|somebody|a\s+person)\s+(?:is\s+|was\s+)?(?:sitting|standing|kneeling|"
            r"pressing\s+(?:down\s+)?)\s+on\s+(?:my|his|her|their|the)\s+chest",
            _together(_HEART_REFERRED_PAIN, _SWEAT, _UNWELL_SIGN, gap=150),
            r"\b(?:having|is\s+this|could\s+(?:this|it)\s+be|am\s+i\s+having|think\s+"
            r"(?:i'?m|i\s+am|he'?s|he\s+is|she'?s|she\s+is|it'?s|it\s+is)\s+(?:having\s+)?)"
            r"\s*an?\s+heart\s+attack",
        ),
        "American Heart Association, heart attack warning signs; NHS, heart attack symptoms",
    ),
    _rule(
        "stroke",
        "FAST / BE-FAST signs: face drooping or lopsided, sudden weakness or numbness on one side "
        "(an arm that cannot hold a cup), slurred, muddled or lost speech, sudden confusion or "
        "loss of balance; two of face, arm and speech together.",
        (
            r"\b(?:face|mouth|smile|lip)\s+(?:\w+\s+){0,4}?(?:droop\w*|(?:has\s+)?(?:dropped|fallen)"
            r"\s+on\s+one\s+side)|\bdroop\w*\s+(?:\w+\s+){0,3}?(?:face|mouth|smile|lip)",
            r"\b(?:one\s+side|side)\s+of\s+(?:my|his|her|their|the)\s+(?:face|body)\s+"
            r"(?:\w+\s+){0,3}?(?:droop\w*|dropp\w*|numb\w*|weak\w*|paraly\w*|dead|limp|fallen|"
            rf"not\s+moving|won'?t\s+move|{_CANT}\s+move)",
            r"\b(?:weak\w*|numb\w*|paraly\w*)\s+(?:\w+\s+){0,3}?on\s+(?:one|the\s+(?:left|right))\s+"
            r"side\b",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,4}}?(?:weak\w*|numb\w*|paraly\w*|{_CANT}\s+(?:move|lift|"
            r"raise|feel)\s+(?:my|his|her|their|one)\s+(?:arm|leg|hand|face|side))",
            _near(_FACE_ODD, rf"{_LIMB_WEAK}|{_SPEECH_ODD}|{_SUDDEN}", 150),
            _near(_LIMB_WEAK, _SPEECH_ODD, 150),
            r"\bslurr\w*|\bwords?\s+(?:are\s+|were\s+|keep\s+|is\s+)?(?:(?:coming|come|comes|came)"
            r"\s+out\s+)?"
            r"(?:all\s+)?(?:wrong|jumbled|garbled|muddled)|"
            rf"{_CANT}\s+(?:get\s+(?:my|his|her|their|the)\s+words\s+out|speak\s+properly|"
            r"talk\s+properly|form\s+words)|\bspeech\s+(?:is\s+|was\s+|has\s+|became\s+|went\s+)?"
            r"(?:\w+\s+)?(?:garbled|jumbled|muddled|gone)",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,3}}?(?:{_CANT}\s+(?:speak|talk|walk|"
            r"stand)|confus\w*\b(?!\s+(?:about|by|as\s+to|whether|with)\b)|"
            r"loss\s+of\s+balance|lost\s+(?:my|his|her)\s+balance)|"
            rf"\bconfus\w*\s+(?:\w+\s+){{0,3}}?{_SUDDEN}",
            r"\bweak\w*\s+(?:\w+\s+){0,3}?confus\w*|\bconfus\w*\s+(?:\w+\s+){0,3}?weak\w*",
            r"\b(?:having|is\s+this|could\s+(?:this|it)\s+be|am\s+i\s+having|think\s+"
            r"(?:i'?m|i\s+am|he'?s|he\s+is|she'?s|she\s+is|it'?s|it\s+is)\s+(?:having\s+)?)"
            r"\s*an?\s+(?:mini[\s-]+)?stroke",
        ),
        "NHS and American Stroke Association, FAST / BE-FAST stroke signs",
    ),
    _rule(
        "anaphylaxis",
        "Throat closing or tongue or lips swelling, or trouble breathing, after a food, a sting or "
        "a medicine; swelling lips or tongue with a tight throat, a changed voice or wheezing; an "
        "adrenaline auto-injector used.",
        (
            r"\bthroat\s+(?:\w+\s+){0,2}?(?:closing|swelling\s+(?:up|shut)|swollen\s+shut|"
            r"shutting|tightening\s+up)",
            r"\b(?:tongue|lips?|mouth|throat)\s+(?:is\s+|are\s+|has\s+|keeps\s+)?(?:swelling|swollen)"
            r"\s+(?:up|shut|fast|quickly|rapidly)",
            _near(
                r"\b(?:throat|tongue|lips?|mouth|face|eyes)\s+(?:\w+\s+){0,3}?(?:swell\w*|swollen|"
                r"puff\w*\s+up|tight\w*)|\b(?:swell\w*|swollen)\s+(?:\w+\s+){0,2}?"
                rf"(?:throat|tongue|lips?|mouth)\b|{_BREATHLESS}|\bwheez\w*",
                r"\b(?:after|since|from)\s+(?:\w+\s+){0,3}?(?:peanuts?|nuts?|shellfish|shrimps?|"
                r"prawns?|sesame|eggs?|bee|wasp|hornet|stings?|penicillin|antibiotics?|injection|"
                r"eating|ate|taking|took|latex)\b|\b(?:stung|bee\s+sting|wasp\s+sting)\b|"
                r"\b(?:peanuts?|nuts|cashews?|shellfish|prawns?|shrimps?|sesame)\b",
                80,
            ),
            # Rule set 3: swelling of the lips or tongue with a sign that the airway is involved.
            _near(
                r"\b(?:tongue|lips?|mouth)\s+(?:[\w']+\s+){0,3}?(?:swell\w*|swollen|puff\w*\s+up|"
                r"bloat\w*)|\b(?:swell\w*|swollen|puffy)\s+(?:\w+\s+){0,2}?(?:tongue|lips?)\b",
                r"\bthroat\s+(?:[\w']+\s+){0,3}?(?:tight\w*|swell\w*|swollen|clos\w*|narrow\w*)|"
                r"\btight\w*\s+(?:\w+\s+)?(?:in\s+)?(?:my\s+|his\s+|her\s+|the\s+)?throat|\bvoice\s+"
                r"(?:[\w']+\s+){0,3}?(?:hoarse|croaky|weird|strange|different|changed|funny|muffled|"
                rf"gone)|\bhoarse|{_BREATHLESS}|\bwheez\w*|{_CANT}\s+swallow|\b(?:hard|difficult|"
                r"trouble)\s+(?:to\s+)?swallow\w*",
                100,
            ),
            r"\b(?:having|going\s+into|in)\s+(?:an?\s+)?anaphyla\w*|\banaphylactic\s+(?:shock|"
            r"reaction)|\bsevere\s+allergic\s+reaction",
            r"\b(?:used|gave|give|injected|had\s+to\s+use|using)\s+(?:\w+\s+){0,2}?epi[\s-]?pens?",
        ),
        "NHS, anaphylaxis; Resuscitation Council UK, emergency treatment of anaphylaxis",
    ),
    _rule(
        "severe_breathlessness",
        "Cannot breathe or talk in full sentences, gasping, lips or skin turning blue, sudden or "
        "severe breathlessness, a child's ribs sucking in.",
        (
            rf"{_CANT}\s+breathe?\b(?![^.?!,]{{0,30}}\b(?:nose|nostrils?|nasal)\b)",
            r"\b(?:hardly|barely)\s+breathe",
            r"\b(?:gasping|fighting|struggling)\s+(?:for\s+(?:air|breath)|to\s+breathe)",
            r"\b(?:lips?|face|skin|fingers?|fingertips|tongue)\s+(?:\w+\s+){0,2}?(?:turn\w*|gone|"
            r"going|went|look\w*|are|is)\s+(?:\w+\s+)?(?:blue|grey|gray)\b",
            rf"\b(?:{_SUDDEN}|severe|extreme|serious)\s+(?:\w+\s+)?(?:{_BREATHLESS})",
            r"\btoo\s+(?:breathless|out\s+of\s+breath)\s+to\s+(?:speak|talk|walk)|"
            rf"{_CANT}\s+(?:speak|talk|finish)\s+(?:\w+\s+){{0,2}}?(?:full\s+)?sentences?",
            r"\b(?:breathless|short\s+of\s+breath|out\s+of\s+breath)\s+(?:\w+\s+){0,2}?(?:at\s+rest|"
            r"resting|sitting\s+still|even\s+(?:when|while)\s+(?:resting|sitting))",
            r"\b(?:ribs|chest|skin\s+between\s+(?:the\s+|his\s+|her\s+)?ribs)\s+(?:\w+\s+){0,2}?"
            r"(?:sucking|pulling|sinking)\s+in\b",
        ),
        "NHS, when to call 999 (severe difficulty breathing); NHS, shortness of breath",
    ),
    _rule(
        "choking",
        "Choking: something stuck in the throat or breathed in, with coughing, gagging, no breath "
        "or voice, hands at the throat, or back blows and abdominal thrusts needed.",
        (
            r"\b(?:is|am|i'?m|he'?s|she'?s|baby'?s|keeps|started|was|were)\s+(?:\w+\s+)?choking\b"
            r"(?!\s+me\b)(?!\s+(?:feeling|sensation))|\bchoking\s+on\s+(?!(?:my|his|her)\s+(?:own\s+)?"
            r"(?:saliva|spit))",
            _near(
                r"\b(?:stuck|lodged)\s+in\s+(?:\w+\s+)?(?:throat|windpipe|airway)|\b(?:swallowed|"
                r"inhaled|breathed\s+in|sucked\s+in)\s+(?:a\s+|an\s+|some\s+)?(?:\w+\s+)?(?:coins?|"
                r"grapes?|peanuts?|nuts?|toy|marbles?|beads?|lego|sweets?|candy|popcorn|piece|"
                r"bone|pen\s+lid|cap)\b",
                rf"{_CANT}\s+(?:breathe|speak|talk|cry|cough|make\s+a\s+sound|swallow\s+(?:\w+\s+)?"
                r"(?:saliva|spit|anything))|\bgasp\w*|\bgagg\w*|\bcough\w*\s+(?:and\s+)?(?:cough\w*|"
                r"splutter\w*|gagg\w*|wheez\w*)|\bwheez\w*|\b(?:turning|gone|going)\s+(?:\w+\s+)?"
                r"(?:blue|red|purple)|\bdrool\w*|\bnoisy\s+breath\w*",
                100,
            ),
            r"\b(?:heimlich|back\s+blows|abdominal\s+thrusts|chest\s+thrusts)\b",
            # Rule set 3: the universal choking sign, hands at the throat, and no voice or cough.
            _near(
                r"\b(?:grabb\w*|clutch\w*|holding|gripping)\s+(?:at\s+)?(?:his|her|their|my)\s+"
                r"(?:own\s+)?(?:throat|neck)",
                rf"{_CANT}\s+(?:breathe|speak|talk|cough|make\s+a\s+sound|get\s+(?:\w+\s+)?(?:breath|"
                r"air))|\b(?:turning|going|gone|went)\s+(?:\w+\s+)?(?:blue|red|purple|dark)|\bgasp\w*|"
                r"\bno\s+sound",
                120,
            ),
        ),
        "NHS and Resuscitation Council UK, choking (back blows, abdominal thrusts, call 999)",
    ),
    _rule(
        "self_harm",
        "Thoughts of suicide or self-harm, wanting to die or to end one's life, or signs of a "
        "plan: pills saved up, asking how many it would take, a goodbye note, locked away with "
        "blades; cutting or burning oneself (deeper than usual, to cope, hidden); goodbyes said or "
        "a calm resolve together with affairs put in order (a will, a pet rehomed, contracts "
        "cancelled).",
        (
            r"\bkill(?:ing)?\s+(?:my\s*self|myself)\b|\bend(?:ing)?\s+(?:my|it\s+all|my\s+own)\s+life"
            r"|\bend\s+it\s+all\b|\btak(?:e|ing)\s+my\s+(?:own\s+)?life\b|\bsuicid\w*",
            r"\b(?:want|wanted|wanting|wanna)\s+(?:to\s+)?die\b(?!\s+(?:my|her|his|their|the)"
            r"\b)|\bwish\s+(?:i\s+(?:was|were)|to\s+be)\s+dead|\bbetter\s+off\s+(?:dead|without\s+me)",
            r"\bdon'?t\s+want\s+to\s+(?:live|be\s+alive|be\s+here\s+anymore|wake\s+up|exist)|"
            r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going\s+on|being\s+alive)",
            r"\bself[\s-]?harm\w*|\bharm(?:ing)?\s+myself|\b(?:been|keep|started|i'?ve\s+been)\s+"
            r"(?:cutting|burning|hurting|harming)\s+myself|\b(?:want|urge|urges|thinking\s+(?:of|"
            r"about))\s+(?:to\s+)?(?:cut|cutting|hurt|hurting|burn|burning)\s+myself",
            r"\bhang\s+myself|\bjump\s+off\s+(?:a\s+|the\s+)?(?:bridge|building|roof|cliff)|"
            r"\bbetter\s+(?:off\s+)?without\s+me\b|\b(?:plan|planning|going|ready|decided)\s+to\s+"
            r"end\s+(?:things|everything|it)\b(?!\s+with\b)|"
            r"\b(?:been|keeps?|started|is|was|caught\s+(?:him|her)|found\s+(?:him|her))\s+(?:\w+\s+)?"
            r"(?:cutting|burning|scratching|hurting|harming)\s+(?:him|her|them)sel(?:f|ves)|"
            r"\bcutting\s+(?:my|his|her|their)\s+(?:arms?|wrists?|legs?|thighs?|skin)\b|"
            r"\b(?:want|wanna|wish|hope|hoping|pray\w*)\b(?:\s+[\w']+){0,6}?\s+(?:never|not)\s+wake\s+"
            r"up\b|"
            r"\bnoose\b|\b(?:cut|cutting|slit|slitting|slash\w*)\s+(?:my|his|her|their)\s+wrists?",
            # Indirect intent: a plan, a stockpile, a goodbye.
            r"\b(?:not|won'?t|will\s+not|don'?t\s+want\s+to|not\s+going\s+to)\s+be\s+(?:here|around|"
            r"alive)\s+(?:\w+\s+)?(?:tomorrow|anymore|any\s+more|much\s+longer|for\s+long|by\s+"
            r"(?:the\s+)?(?:morning|weekend|monday|tuesday|wednesday|thursday|friday|saturday|"
            r"sunday))|\bdon'?t\s+want\s+to\s+(?:be\s+here|go\s+on|carry\s+on|be\s+around)\b|"
            r"\bcan'?t\s+go\s+on\s+(?:anymore|any\s+more|any\s+longer|living)",
            r"\b(?:saving|saved|stockpil\w*|hoard\w*|stash\w*|sav(?:e|ing)\s+up)\s+(?:\w+\s+){0,3}?"
            rf"(?:{_MEDS})\b",
            _near(
                rf"\b(?:{_MEDS}|pills?|tablets?)\b",
                r"\bto\s+(?:end\s+(?:it|things|my\s+life|it\s+all)|die|kill\s+myself|do\s+it|not\s+wake"
                r"\s+up|never\s+wake\s+up)\b(?!\s+with\b)",
                60,
            ),
            r"\bhow\s+(?:many|much)\b(?:\s+[\w']+){0,8}?\s+to\s+(?:die|kill\s+(?:my|your|him|her)"
            r"sel\w*|kill\s+(?:a\s+person|some\s*one|me)|overdose|not\s+wake\s+up|never\s+wake\s+up|"
            r"end\s+(?:it|my\s+life))\b",
            _near(
                rf"{_MEDS}|pills?|tablets?|\bjump|\bbridge|\brope",
                r"\bhow\s+(?:many|much|high)\s+(?:of\s+(?:them|these|those)\s+)?(?:\w+\s+){0,2}?"
                r"(?:would|will|does|do|did)\s+it\s+take\b(?!\s+(?:to\s+)?(?:heal|work|recover|get|"
                r"see|go|feel|lose|gain|grow|clear|start|kick|wear|help|show))|\b(?:lethal|fatal|"
                r"deadly)\s+(?:dose|amount|overdose|number)",
                150,
            ),
            r"\b(?:goodbye|farewell|suicide)\s+(?:note|letter|message|texts?|video)|\b(?:wrote|"
            r"written|left|leaving|writing)\s+(?:\w+\s+){0,2}?(?:note|letter)\s+(?:\w+\s+){0,3}?"
            r"(?:goodbye|saying\s+(?:sorry|goodbye))|\bsaid\s+goodbye\s+to\s+(?:everyone|everybody|"
            r"us\s+all|all\s+of\s+us)|\bgiv\w*\s+away\s+(?:all\s+)?(?:my|his|her|their)\s+(?:things|"
            r"stuff|belongings|possessions)|\bgiv\w*\s+(?:all\s+)?(?:my|his|her|their)\s+(?:\w+\s+)?"
            r"(?:things|stuff|belongings|possessions)\s+away|\b(?:wrote|written|writing|left)\s+"
            r"(?:\w+\s+){0,2}?(?:notes?|letters?)\s+(?:to|for)\s+(?:\w+\s+){0,3}?(?:kids|children|"
            r"family|wife|husband|parents|mum|mom|dad|everyone|partner)\b.{0,80}?\b(?:ready\s+to\s+go|"
            r"goodbye|end\s+it|tonight|won'?t\s+be)",
            r"\blocked\s+(?:him|her|my|them|your)sel(?:f|ves)\s+in\b(?:\s+[\w']+){0,8}?\s+(?:with|"
            r"and)\s+(?:\w+\s+){0,3}?(?:razors?|blades?|knife|knives|pills|tablets|rope|belt|gun|"
            r"cord)\b",
            # Rule set 3: an act of self-harm (cutting, burning) told with what marks it as one:
            # deeper than usual, a way to cope, hidden from others, done on purpose.
            _near(
                r"\b(?:cut|cutting|cuts|burn|burning|burns|burnt|burned|carv\w*)\s+(?:my\s*self|myself|"
                r"my\s+(?:arms?|wrists?|thighs?|legs?|skin|stomach|hips?))\b",
                r"\bdeeper\s+than\s+(?:usual|normal|before|last\s+time|i\s+(?:meant|wanted|planned))|"
                r"\bhelps?\s+(?:me\s+)?cope|\bhow\s+i\s+cope|\bway\s+(?:i\s+|to\s+)?cope|\bto\s+cope\b"
                r"(?!\s+with\s+(?:the\s+|this\s+)?(?:pain|itch\w*|burn|sting\w*|wound|scar\w*))|"
                r"\b(?:when|whenever)\s+(?:things|it|everything|life|stuff)\s+(?:\w+\s+)?(?:gets?|got|"
                r"becomes?)\s+(?:too\s+much|(?:too\s+)?(?:hard|bad|overwhelming))|\bthe\s+only\s+"
                r"(?:thing|way)\s+(?:that\s+)?(?:\w+\s+){0,2}?(?:calms?\s+me|makes?\s+me\s+feel|"
                r"stops?\s+(?:the\s+)?(?:thoughts|noise|voices|feelings)|makes?\s+(?:the\s+)?(?:noise|"
                r"thoughts|voices|feelings))|\bmakes?\s+(?:the\s+)?(?:\w+\s+)?(?:noise|thoughts?|"
                r"voices?|feelings?)\s+(?:\w+\s+)?(?:stop|go\s+away|quiet)|\bso\s+(?:that\s+)?"
                r"(?:nobody|no\s+one|noone|my\s+(?:parents|mum|mom|dad|family|partner|wife|husband))"
                r"\s+(?:\w+\s+)?(?:finds?\s+out|knows?|sees?|notices?|will\s+(?:know|see|notice|"
                r"find\s+out))|\bhide\s+(?:the\s+|my\s+)?(?:cuts|marks|scars|burns|wounds)|"
                r"\bon\s+purpose|\bdeliberately|\bintentionally|\bwith\s+(?:a\s+|my\s+)?(?:lighter|"
                r"cigarette|compass|pencil\s+sharpener)\b",
                150,
            ),
            # Rule set 3: farewell signs, a goodbye or calm resolve with affairs put in order.
            _two_of(
                _FAREWELL_SIGN,
                _CALM_RESOLVE,
                _AFFAIRS_IN_ORDER,
                gap=250,
            ),
        ),
        "988 Suicide & Crisis Lifeline and Samaritans guidance; NICE NG225 (self-harm)",
        negatable=False,
        crisis=True,
    ),
    _rule(
        "overdose_or_poisoning",
        "Too many pills (a dozen or more, a whole bottle) or too much of a medicine taken, even "
        "when the person feels fine, an overdose, a child who swallowed someone's pills, or a "
        "poison, chemical (antifreeze, bleach, a laundry capsule), button battery or magnet "
        "swallowed.",
        (
            r"\b(?:i|he|she|they|we|has|have|just|i'?ve)\s+(?:\w+\s+)?overdosed\b|\boverdosing\b|"
            r"\b(?:took|taken|take|had|done|did)\s+(?:an?\s+)?overdose|"
            r"\bo\.?d'?(?:ed|'d)\b",
            r"\b(?:took|taken|swallowed|ate|had|popped|drank)\s+(?:\w+\s+){0,2}?(?:whole|entire|"
            r"full)\s+(?:bottle|pack\w*|box|strip|sheet|blister|jar|tub)",
            r"\b(?:took|taken|swallowed|ate|had|popped)\s+(?:\w+\s+){0,2}?(?:too\s+many|lots\s+of|"
            r"a\s+lot\s+of|loads\s+of|(?:a\s+)?handful\s+of|all\s+(?:of\s+)?(?:my|his|her|their|"
            rf"the))\s+(?:[\w']+\s+){{0,2}}?(?:{_MEDS})",
            r"\b(?:double|triple|twice|two\s+doses\s+of|extra)\s+(?:\w+\s+){0,2}?(?:dose\s+of\s+)?"
            r"insulin|\binsulin\s+(?:\w+\s+){0,3}?(?:twice|double|two\s+times)\b",
            r"\b(?:took|taken|swallowed|popped)\s+(?:about\s+|around\s+|maybe\s+|like\s+|roughly\s+|"
            r"nearly\s+|almost\s+|over\s+|more\s+than\s+|at\s+least\s+|some\s+)?(?:\d{2,}(?![\d.,])"
            r"(?!\s*(?:mgs?|mcg|\u00b5g|ml|g|gm|grams?|iu|units?|%|times|days|weeks|years)\b)|"
            r"fifteen|twenty|thirty|forty|fifty)\s+(?:\w+\s+){0,3}?"
            rf"(?:{_MEDS}|pills?|tablets?)",
            r"\b(?:took|taken|had|given|gave)\s+(?:\w+\s+){0,2}?(?:way\s+)?too\s+much\s+(?:\w+\s+){0,2}?"
            rf"(?:{_MEDS})",
            _near(_CHILD_AGED, _SWALLOWED_BY_CHILD, 100),
            _together(
                _CHILD_AGED,
                r"\b(?:found|got\s+hold\s+of|got\s+into|opened|playing\s+with)\s+(?:[\w']+\s+){0,4}?"
                rf"(?:pills?|tablets?|{_MEDS}|{_POISON})\b",
                r"\bmissing|\bgone\b|\bempty|\bchew\w*|\bmouth\b|\bswallow\w*|\bate\b|\beaten|"
                r"\b(?:might|may|could)\s+have|\bnot\s+sure\s+how\s+many",
                gap=100,
            ),
            r"\b(?:swallowed|drank|drunk|ingested|ate|eaten|chewed|licked|got\s+into)\s+"
            rf"(?:\w+\s+){{0,3}}?(?:{_POISON})",
            r"\b(?:been|was|were|got|i'?m|is)\s+(?:\w+\s+)?poisoned\b|\bcarbon\s+monoxide",
            # Rule set 3: a household chemical, a battery or a magnet swallowed, told any way round.
            _near(_INGESTED, rf"\b(?:{_HOUSEHOLD_POISON})\b", 120),
        ),
        "NHS, poisoning (call 999 / A&E); US Poison Control (1-800-222-1222)",
    ),
    _rule(
        "sepsis",
        "Signs of sepsis: mottled or blue skin, no urine for a day, feeling like dying, or an "
        "infection or fever with confusion, extreme drowsiness or uncontrollable shivering.",
        (
            r"\b(?:skin|legs?|arms?|knees?)\s+(?:\w+\s+){0,2}?(?:mottled|blotchy\s+(?:and\s+)?"
            r"(?:blue|purple)|ashen)|\bmottled\s+(?:skin|legs?|arms?)",
            r"\b(?:haven'?t|hasn'?t|not|no|didn'?t)\s+(?:\w+\s+){0,2}?(?:peed|urinated|passed\s+"
            r"(?:any\s+)?(?:urine|water)|had\s+a\s+(?:wee|pee)|weed|wet\s+(?:a|any|his|her)\s+"
            r"(?:nappy|nappies|diapers?))\s+(?:\w+\s+){0,3}?(?:all\s+day|since\s+(?:yesterday|"
            r"this\s+morning|last\s+night)|in\s+(?:over\s+)?(?:a\s+day|\w+\s+hours)|for\s+"
            r"(?:over\s+)?(?:a\s+day|\w+\s+hours|hours))",
            r"\bfeel\w*\s+(?:like\s+)?(?:i'?m|i\s+am|i\s+might\s+be)\s+(?:going\s+to\s+die|dying)|"
            r"\bnever\s+felt\s+this\s+(?:ill|sick|unwell)",
            _near(
                r"\b(?:fever\w*|temperature|infection|infected|sepsis|septic|uti|pneumonia|chills)\b",
                r"\bconfus\w*|\b(?:very|really|extremely)\s+(?:drowsy|sleepy)|\bhard\s+to\s+wake|"
                r"\bshiver\w*\s+(?:uncontrollabl\w*|violently|non[\s-]?stop)|\buncontrollabl\w*\s+"
                r"shiver\w*|\bcan'?t\s+stop\s+(?:shaking|shivering)|\brigors\b",
                100,
            ),
        ),
        "NICE NG51 (sepsis); UK Sepsis Trust, signs of sepsis",
    ),
    _rule(
        "meningitis",
        "A rash that does not fade under a glass, purple spots in someone unwell, a stiff neck "
        "with fever, vomiting or dislike of light, a headache with vomiting or dislike of light "
        "and confusion or drowsiness, or a baby's bulging soft spot.",
        (
            r"\brash\s+(?:that\s+)?(?:\w+\s+){0,2}?(?:doesn'?t|does\s+not|won'?t|didn'?t|did\s+not|"
            r"don'?t|do\s+not|not)\s+(?:fade|blanch)|\bnon[\s-]?blanching|\b(?:glass|tumbler)\s+test",
            _near(
                r"\b(?:rash|spots|blotches|marks)\b",
                r"\b(?:doesn'?t|does\s+not|won'?t|didn'?t|did\s+not|don'?t|do\s+not|aren'?t|not|"
                r"isn'?t|still\s+(?:there|visible))\s+(?:\w+\s+)?(?:fade|"
                r"fading|blanch\w*|go(?:ing)?\s+away|disappear\w*|"
                r"go(?:ing)?\s+(?:pale|white))\b.{0,40}?\b(?:press\w*|push\w*|glass|tumbler)|"
                r"\b(?:glass|tumbler)\b",
                80,
            ),
            _near(
                _STIFF_NECK,
                rf"{_FEVER}|\bvomit\w*|\blight\s+hurts|\b(?:dislike|hates?|can'?t\s+stand|sensitive"
                r"\s+to)\s+(?:bright\s+)?light|\bphotophobia|\brash\b|\bdrowsy|\bconfus\w*",
                100,
            ),
            r"\bbulging\s+(?:\w+\s+)?(?:soft\s+spot|fontanelle?)|\b(?:soft\s+spot|fontanelle?)\s+"
            r"(?:\w+\s+){0,2}?(?:bulg\w*|swollen|raised|tense)",
            # Rule set 3: purple or pinprick spots in someone unwell; meningitis in adults, a
            # headache with confusion or drowsiness, or with light hurting and a fever.
            _near(
                r"\b(?:purple|purplish|dark\s+red|pin[\s-]?prick|bruise[\s-]?like|blood[\s-]?spot)\s+"
                r"(?:\w+\s+)?(?:spots?|rash|dots|marks|blotch\w*|patches)|\bpetechia\w*|\bpurpura",
                rf"{_FEVER}|{_HIGH_FEVER}|\bfloppy|\bdrowsy|\blethargic|\bunwell|\bvomit\w*|"
                rf"\bcold\s+(?:hands|feet)|{_CONFUSED}|{_STIFF_NECK}",
                150,
            ),
            _together(
                _HEADACHE,
                rf"{_LIGHT_HURTS}|{_VOMITING}|{_FEVER}|{_HIGH_FEVER}",
                rf"{_CONFUSED}|\b(?:very\s+|really\s+|so\s+)?drowsy|\bhard\s+to\s+wake|"
                rf"{_CANT}\s+(?:stay\s+awake|wake)|{_STIFF_NECK}",
                gap=150,
            ),
            _together(_HEADACHE, _LIGHT_HURTS, rf"{_HIGH_FEVER}|\bfever\w*", gap=150),
        ),
        "NHS, meningitis symptoms; NICE CG102 (bacterial meningitis and meningococcal disease)",
    ),
    _rule(
        "pregnancy_emergency",
        "In pregnancy or after a birth, miscarriage or abortion: heavy bleeding, the baby not "
        "moving, severe pain or headache, vision changes, sudden swelling, a fit, waters "
        "breaking or fluid leaking, shoulder-tip pain, bleeding with constant pain or a hard bump.",
        (
            _near(
                _PREGNANT,
                r"\bbleed\w*\s+(?:\w+\s+)?(?:heavily|a\s+lot|loads|badly|profusely|non[\s-]?stop)|"
                r"\b(?:heavy|lots\s+of|a\s+lot\s+of|so\s+much|massive|severe|profuse)\s+"
                r"(?:vaginal\s+)?(?:bleeding|blood)|\bsoak\w*\s+(?:\w+\s+){0,2}?(?:pads?|towels?|"
                r"through)|\bpads?\s+(?:an?|every|each)\s+hour|\bgush\w*\s+(?:of\s+)?blood|"
                r"\bblood\s+gush\w*|\b(?:large|big|huge)\s+(?:blood\s+)?clots|\bclots?\s+(?:the\s+"
                r"size\s+of|as\s+big\s+as|bigger\s+than)",
                150,
            ),
            _near(
                _LATER_PREGNANCY,
                r"\bbaby\s+(?:\w+\s+){0,2}?(?:stopped\s+moving|isn'?t\s+moving|not\s+moving|"
                r"hasn'?t\s+moved|moving\s+less|not\s+kicking|stopped\s+kicking)|\b(?:reduced|"
                r"fewer|less|no)\s+(?:fetal\s+|foetal\s+|baby\s+)?(?:movements?|kicks)|"
                rf"{_CANT}\s+feel\s+(?:the\s+|my\s+)?baby\s+(?:move|kick)|\bsevere\s+(?:\w+\s+)?"
                r"(?:headache|pain)|\b(?:blurred|blurry|flashing|flashes|sparkles)\s+(?:\w+\s+)?"
                r"(?:vision|lights)|\bvision\s+(?:\w+\s+)?(?:blurred|blurry)|\bsudden\s+swelling|"
                r"\bseizure|\bconvuls\w*|\bfitting\b|\bwaters?\s+(?:\w+\s+)?(?:broke|broken|burst|"
                r"leaking)|\bshoulder[\s-]+tip\s+pain",
                150,
            ),
            # Rule set 3: the waters going (a gush or a trickle of fluid) before labour is due.
            _near(
                _LATER_PREGNANCY,
                r"\b(?:gush\w*|trickl\w*|leak\w*|dribbl\w*|pour\w*|flood\w*)\s+(?:\w+\s+){0,3}?"
                r"(?:of\s+)?(?:clear\s+|watery\s+|pink\w*\s+|green\w*\s+)?(?:fluid|water|liquid)\b|"
                r"\b(?:fluid|water|liquid)\s+(?:\w+\s+){0,3}?(?:gush\w*|trickl\w*|leak\w*|pour\w*|"
                r"running\s+down)|\bwaters?\s+(?:\w+\s+){0,2}?(?:went|gone|go|broke|broken|burst|"
                r"leak\w*|released)",
                150,
            ),
            # Rule set 3: bleeding with constant pain or a hard bump (a possible abruption).
            _together(
                _LATER_PREGNANCY,
                r"\bbleed\w*|\bblood\b",
                r"\bconstant\w*\s+(?:\w+\s+)?(?:pain\w*|ache|aching|hurting)|\b(?:pain|ache)\s+"
                r"(?:\w+\s+){0,3}?(?:constant|won'?t\s+(?:stop|go\s+away)|doesn'?t\s+(?:stop|ease))|"
                r"\b(?:bump|tummy|belly|stomach|uterus|womb|abdomen)\s+(?:[\w']+\s+){0,3}?"
                r"(?:rock[\s-]hard|hard|tense|rigid|solid)\b|\b(?:severe|strong|really\s+bad)\s+"
                r"(?:\w+\s+)?(?:pain|cramp\w*|contractions?)",
                gap=150,
            ),
        ),
        "NHS, pregnancy: when to call 999 or your maternity unit; RCOG patient information",
    ),
    _rule(
        "pregnancy_bleeding",
        "Any vaginal bleeding while pregnant: not always an emergency, but to be seen the same "
        "day.",
        (_near(_PREGNANT_NOW, r"\bbleed\w*|\bblood\b", 100),),
        "NHS, vaginal bleeding in pregnancy (contact a GP, midwife or 111 the same day)",
        action="urgent",
    ),
    _rule(
        "ectopic_pregnancy",
        "A possible early pregnancy (a late period, a positive test) with pain low in the belly "
        "or on one side and fainting, dizziness or shoulder-tip pain, or sudden severe belly pain.",
        (
            _together(
                _EARLY_PREGNANCY,
                r"\b(?:pain\w*|cramp\w*|ache|aching|hurts?|agony)\s+(?:\w+\s+){0,5}?(?:(?:on\s+)?"
                r"(?:one|the\s+(?:left|right)|my\s+(?:left|right))\s+side|lower\s+(?:\w+\s+)?(?:tummy|"
                r"belly|abdomen|stomach)|low\s+down|pelvi\w*)|\b(?:sharp|stabbing|severe|one[\s-]"
                r"sided)\s+(?:\w+\s+){0,3}?(?:pain|cramp\w*)",
                r"\bfaint\w*|\bdizz\w*|\blight[\s-]?headed|\bpass(?:ed|ing)?\s+out|\bcollaps\w*|"
                r"\b(?:very|really|so)\s+pale\b|\bblack(?:ed)?\s+out",
                gap=150,
            ),
            _near(
                _EARLY_PREGNANCY,
                r"\bshoulder[\s-]+tip|\btip\s+of\s+(?:my\s+|her\s+|the\s+)?shoulder|"
                rf"\b(?:{_SUDDEN}|{_SEVERE}|sharp|stabbing)\s+(?:\w+\s+){{0,3}}?pain\s+(?:\w+\s+)"
                r"{0,5}?(?:tummy|belly|abdomen|stomach|pelvi\w*|side|lower)",
                150,
            ),
        ),
        "NHS, ectopic pregnancy (call 999 or go to A&E: sharp pain, fainting, shoulder-tip pain); "
        "RCOG, ectopic pregnancy",
    ),
    _rule(
        "early_pregnancy_pain",
        "A possible early pregnancy with pain on one side of the lower belly: to be seen the same "
        "day (an ectopic pregnancy must be ruled out).",
        (
            _near(
                _EARLY_PREGNANCY,
                r"\b(?:pain\w*|cramp\w*|ache|aching|twinge\w*)\s+(?:\w+\s+){0,5}?(?:on\s+)?(?:one|"
                r"(?:the|my|her)\s+(?:left|right))\s+side\b|\bone[\s-]sided\s+(?:\w+\s+)?(?:pain|cramp\w*)|"
                r"\b(?:lower|bottom)\s+(?:left|right)\s+(?:side\s+)?(?:\w+\s+)?(?:pain|cramp\w*)|"
                r"\b(?:pain|cramp\w*)\s+(?:\w+\s+){0,3}?(?:lower|bottom)\s+(?:left|right)\b",
                150,
            ),
        ),
        "NHS, ectopic pregnancy (see a GP or call 111: missed period and pain on one side)",
        action="urgent",
    ),
    _rule(
        "reduced_fetal_movements",
        "In the second half of a pregnancy, the baby moving less than usual, or not at all.",
        (
            _near(
                _LATER_PREGNANCY,
                r"\bbaby\s+(?:[\w']+\s+){0,3}?(?:hardly|barely|not|hasn'?t|has\s+not|isn'?t|stopped|"
                r"less|fewer|slow\w*)\s+(?:\w+\s+){0,2}?(?:mov\w*|kick\w*|active)|\bbaby\s+(?:\w+\s+)"
                r"{0,2}?(?:moving|kicking|movements?)\s+(?:\w+\s+)?(?:less|fewer|slower|weaker)|"
                r"\b(?:reduced|fewer|less|decreased|no|not\s+many|hardly\s+any|weaker)\s+(?:fetal\s+|"
                r"foetal\s+|baby'?s?\s+)?(?:movements?|kicks)|(?:can'?t|cannot|don'?t|haven'?t|not|"
                r"hardly|barely)\s+(?:\w+\s+)?(?:feel|felt)\s+(?:\w+\s+){0,2}?(?:baby|kicks|"
                r"movements?)|\bbaby\s+(?:[\w']+\s+){0,3}?(?:very|really|so|unusually|much|gone|been|"
                r"more)\s+(?:\w+\s+)?quiet|\bbaby\s+(?:[\w']+\s+){0,2}?not\s+(?:as|very|so)\s+"
                r"(?:active|lively)",
                150,
            ),
        ),
        "NHS and RCOG, your baby's movements (call your midwife or maternity unit straight away)",
        action="urgent",
    ),
    _rule(
        "fever_in_pregnancy",
        "A fever of 38\u00b0C or more, or shivering, while pregnant.",
        (_near(rf"{_PREGNANT_NOW}|{_LATER_PREGNANCY}", _HIGH_FEVER, 120),),
        "NHS, illness in pregnancy (call your midwife or GP with a high temperature); RCOG, sepsis "
        "in pregnancy",
        action="urgent",
    ),
    _rule(
        "young_infant_fever_or_unwell",
        "A baby under 3 months with a fever, or a baby or child who is floppy, hard to wake, not "
        "feeding, grunting or without wet nappies.",
        (
            _near(_YOUNG_BABY, _FEVER, 150),
            _near(
                rf"{_YOUNG_BABY}|\b(?:baby|infant|newborn)\b",
                r"\b(?:won'?t|not|isn'?t|refus\w*\s+to|stopped|hasn'?t)\s+(?:\w+\s+)?(?:feed|feeding|fed|"
                r"drink\w*|taking\s+(?:\w+\s+)?(?:milk|bottles?|feeds?))\b",
                80,
            )
            + "|"
            + _near(
                r"\b(?:won'?t|not|isn'?t|refus\w*\s+to|stopped|hasn'?t)\s+(?:\w+\s+)?(?:feed|feeding|"
                r"fed)\b",
                r"\b(?:very|really|unusually|extremely|so)\s+(?:sleepy|drowsy|lethargic|limp|quiet)|"
                r"\bfloppy|\bgrunting|\bhot\b|\bfever\w*|\btemperature",
                80,
            ),
            _near(
                _CHILD,
                r"\bfloppy|\b(?:won'?t|can'?t|hard\s+to|difficult\s+to)\s+(?:wake|rouse)|"
                r"\bnot\s+waking|\bunresponsive|\bhigh[\s-]pitched\s+(?:cry|crying|scream\w*)|"
                r"\bweak\s+cry|\b(?:refusing|not\s+taking|won'?t\s+take|stopped\s+taking)\s+"
                r"(?:any\s+|all\s+)?(?:feeds?|milk|fluids|bottles?|the\s+breast)|\bno\s+wet\s+"
                r"(?:nappies|diapers)|\bdry\s+(?:nappies|diapers)|\bgrunting",
                80,
            ),
        ),
        "NICE NG143 (fever in under 5s: under 3 months with 38\u00b0C or more is high risk)",
    ),
    _rule(
        "infant_dehydration",
        "A baby or child with signs of serious dehydration: a sunken soft spot, no wet nappy for "
        "hours, no tears, sunken eyes or a dry mouth with vomiting or diarrhoea.",
        (
            r"\b(?:soft\s+spot|fontanel\w*)\s+(?:[\w']+\s+){0,5}?(?:sunken|sunk|sinking|dipped|"
            r"dipping|dented|caved|hollow|concave|depressed|dips?\s+in)|\b(?:sunken|sinking|dipped|"
            r"depressed)\s+(?:\w+\s+)?(?:soft\s+spot|fontanel\w*)",
            r"\b(?:no|(?:not|hasn'?t|has\s+not|haven'?t)\s+(?:had\s+)?(?:a|any|one))\s+wet\s+"
            r"(?:nappy|nappies|diapers?)|"
            r"\b(?:nappy|nappies|diapers?)\s+(?:\w+\s+){0,3}?(?:dry|not\s+wet)\s+(?:\w+\s+){0,3}?"
            r"(?:since|for|all|in)\b|\b(?:hasn'?t|has\s+not|not|hasnt)\s+(?:\w+\s+)?(?:wet|peed|"
            r"weed|soaked)\s+(?:a\s+|any\s+|his\s+|her\s+)?(?:nappy|nappies|diapers?)",
            _together(
                rf"{_CHILD_AGED}|{_YOUNG_BABY}",
                r"\bsunken\s+eyes|\bno\s+tears|\bcr(?:y|ies|ying)\s+without\s+tears|\bdry\s+"
                r"(?:mouth|lips|tongue)|\bnot\s+(?:peeing|weeing)|\bbarely\s+(?:peeing|weeing)",
                r"\bvomit\w*|\bthrow\w*\s+up|\bbeing\s+sick|\bdiarrh\w*|\brunny\s+(?:poo|stools?)|"
                r"\bnot\s+drinking|\bwon'?t\s+drink|\bfloppy|\bdrowsy|\blethargic|\blistless",
                gap=150,
            ),
        ),
        "NHS, dehydration (call 999 or go to A&E: sunken soft spot, no wet nappy for 12 hours); "
        "NICE NG143 and CG84",
    ),
    _rule(
        "gi_bleeding",
        "Vomiting blood (any amount, bright red or coffee-ground material), black tarry stools, "
        "heavy bleeding or clots from the bottom, or bleeding from the bottom with faintness.",
        (
            r"\b(?:vomit\w*|throw\w*\s+up|threw\s+up|puk\w*|sick|bring\w*\s+up|brought\s+up)\s+"
            r"(?:up\s+)?(?:[\w']+\s+){0,5}?"
            r"(?:blood\b(?!\s+(?:tests?|pressure|sugars?|reports?|work|counts?|group|type|levels?))|"
            r"coffee[\s-]+grounds?)|\b(?:blood|bloody)\s+(?:in\s+(?:my\s+|the\s+|his\s+|her\s+)?)?"
            r"(?:vomit|sick)\b|\bcoffee[\s-]+ground|\bvomit\s+(?:\w+\s+){0,3}?(?:red|bloody)\b",
            r"\b(?:black|dark)\s+(?:and\s+)?(?:tarry|sticky|tar-like)|\btarry\s+(?:\w+\s+)?"
            r"(?:stools?|poo\w*|feces|faeces|motions?)|\b(?:stools?|poo\w*|feces|faeces|motions?)"
            r"\s+(?:\w+\s+){0,3}?(?:like\s+tar|tarry|black\s+(?:and|as)\s+tar)",
            r"\b(?:bleed\w*|blood)\s+(?:\w+\s+){0,2}?(?:heavily|a\s+lot)\s+(?:\w+\s+){0,2}?"
            r"(?:bottom|rectum|anus|back\s+passage|behind)|\b(?:lots|a\s+lot|cups?|loads|tons|masses|"
            r"so\s+much|large\s+amounts?)\s+of\s+(?:\w+\s+){0,2}?(?:blood|clots)\s+(?:\w+\s+){0,5}?"
            r"(?:stools?|toilet|poo\w*|bottom|rectum|back\s+passage|bum|anus)|\b(?:toilet|bowl|pan)\s+"
            r"(?:\w+\s+){0,3}?(?:full\s+of|filled\s+with|red\s+with)\s+(?:\w+\s+){0,2}?blood",
            _near(
                r"\bblood\w*\s+(?:\w+\s+){0,5}?(?:stools?|toilet|poo\w*|bottom|rectum|back\s+passage)|"
                r"\b(?:bleed\w*|blood)\s+from\s+(?:my\s+|his\s+|her\s+|the\s+)?(?:bottom|rectum|back\s+"
                r"passage)|\brectal\s+bleed\w*",
                r"\bfaint\w*|\bdizz\w*|\blight[\s-]?headed|\bpass(?:ed|ing)?\s+out|\bcollaps\w*",
                100,
            ),
        ),
        "NHS, when to call 999 (vomiting blood, black tarry poo); NICE CG141 (upper GI bleeding)",
    ),
    _rule(
        "coughing_blood",
        "Coughing up blood: to be seen the same day, an emergency if it is more than a little.",
        (
            _COUGHED_BLOOD,
            r"\bcough\w*\s+(?:up\s+)?(?:\w+\s+)?bright\s+red",
        ),
        "NHS, coughing up blood (urgent GP appointment; 999 if heavy or breathless)",
        action="urgent",
    ),
    _rule(
        "pulmonary_embolism",
        "Breathlessness or sharp chest pain on breathing in with coughing up blood, or after a "
        "long journey, an operation, a birth, on the pill or with a swollen leg (a possible clot "
        "in the lung).",
        (
            _near(rf"{_BREATHLESS}|{_PLEURITIC}", _COUGHED_BLOOD, 150),
            _near(rf"{_BREATHLESS}|{_PLEURITIC}|{_COUGHED_BLOOD}", _CLOT_RISK, 150),
        ),
        "NHS, pulmonary embolism (call 999 or go to A&E); NICE NG158 (venous thromboembolism)",
    ),
    _rule(
        "deep_vein_thrombosis",
        "One calf or leg swollen and warm, red or darker, and painful or tender (a possible clot), "
        "or a worry that leg pain is a clot.",
        (
            _together(
                r"\b(?:calf|calves|leg|thigh|shin)\b",
                r"\bswollen|\bswelling|\bswelled|\bpuffy|\bbigger\s+than\s+the\s+other",
                _WARM_OR_RED,
                _SORE,
                gap=80,
            ),
            _near(
                r"\bone\s+(?:leg|calf)\s+(?:\w+\s+){0,3}?(?:swollen|bigger|fatter|larger)|\b(?:leg|calf)"
                r"\s+(?:\w+\s+){0,4}?(?:bigger|fatter|larger|more\s+swollen)\s+than\s+the\s+other",
                _SORE,
                80,
            ),
            _near(
                r"\b(?:calf|calves|legs?|thigh)\b",
                r"\b(?:is\s+(?:it|this)|could\s+(?:it|this)\s+be|might\s+(?:it|this)\s+be|worried\s+"
                r"(?:it'?s|it\s+is|about|that)|think\s+(?:i\s+have|it'?s|it\s+is)|afraid\s+(?:it'?s|"
                r"of)|scared\s+(?:it'?s|of))\s+(?:an?\s+|a\s+possible\s+)?(?:dvt|blood\s+clot|clot|"
                r"thrombosis)\b",
                100,
            ),
        ),
        "NHS, DVT (ask for an urgent GP appointment or call 111); NICE NG158",
        action="urgent",
    ),
    _rule(
        "thunderclap_headache",
        "A sudden, severe headache (the worst ever, like a blow to the head, reaching its peak "
        "within a minute), or one that starts suddenly on exertion or with a stiff neck, vomiting "
        "or collapse.",
        (
            r"\bworst\s+headache\s+(?:\w+\s+){0,3}?(?:life|ever)",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,3}}?(?:{_SEVERE}|explosive|blinding|splitting)\s+headache",
            rf"\b(?:{_SEVERE}|explosive|blinding|splitting)\s+headache\s+(?:\w+\s+){{0,4}}?"
            rf"(?:{_SUDDEN}|within\s+(?:a\s+)?(?:seconds|a\s+minute|minutes))",
            r"\bthunderclap",
            r"\b(?:headache|pain\s+in\s+(?:my|the)\s+head)\s+(?:\w+\s+){0,3}?like\s+(?:being\s+|i\s+"
            r"was\s+|i'?d\s+been\s+)?(?:hit|struck|kicked|smashed)",
            # Rule set 3: the worst pain ever, or like a blow, in the head; a sudden headache on
            # exertion, with a stiff neck, vomiting or collapse.
            _near(
                r"\bworst\s+(?:\w+\s+)?(?:pain|headache)\s+(?:[\w']+\s+){0,4}?(?:life|ever)\b|"
                r"\b(?:like|as\s+if)\s+(?:i'?d\s+|i\s+had\s+|i\s+was\s+|i'?ve\s+|someone\s+)?"
                r"(?:been\s+|being\s+|just\s+)?(?:hit|struck|kicked|smashed|whacked|clubbed)\s+"
                r"(?:\w+\s+){0,6}?(?:head|skull)\b",
                rf"{_HEADACHE}|\bhead\b",
                100,
            ),
            _near(
                rf"(?:{_SEVERE}|blinding|splitting|explosive|worst)\s+(?:\w+\s+)?headache",
                r"\b(?:during|while|when|after)\s+(?:\w+\s+){0,2}?(?:sex|orgasm|lifting|straining|"
                r"weightlifting|weight\s+lifting)\b",
                60,
            ),
            _together(
                _HEADACHE,
                rf"{_SUDDEN}|\bcame\s+on\s+(?:all\s+at\s+once|in\s+seconds|instantly)|\bwithin\s+"
                r"seconds",
                r"\b(?:during|while|when)\s+(?:\w+\s+){0,2}?(?:lifting|sex|straining|exercis\w*|"
                rf"working\s+out|orgasm|pushing|weightlifting)|\bworst|{_STIFF_NECK}|{_VOMITING}|"
                rf"\bcollaps\w*|\bpassed\s+out|\b{_SEVERE}|\bblinding|\bsplitting|\bexplosive",
                gap=100,
            ),
        ),
        "NHS, headaches (sudden agonising headache: call 999); NICE CG150",
    ),
    _rule(
        "seizure",
        "A fit lasting over 5 minutes, fits one after another, a first fit, or someone fitting "
        "now.",
        (
            r"\b(?:seizures?|fits?|fitting|seizing|convuls\w*|shaking)\s+(?:\w+\s+){0,5}?(?:for\s+)?"
            r"(?:more\s+than|over|longer\s+than|for)\s+(?:about\s+)?(?:[5-9]|five|six|seven|eight|"
            r"nine|[1-9]\d|ten|fifteen|twenty|thirty)\s+min\w*",
            r"\b(?:seizures?|fits?|convulsions?)\s+(?:\w+\s+){0,3}?(?:won'?t|isn'?t|is\s+not|"
            r"hasn'?t|doesn'?t)\s+(?:stop\w*|end\w*)|\b(?:seizures?|fits?|convulsions?)\s+(?:\w+\s+){0,2}?"
            r"one\s+after\s+(?:another|the\s+other)|\bback[\s-]+to[\s-]+back\s+(?:seizures|fits)",
            r"\bfirst\s+(?:ever\s+)?(?:seizure|fit|convulsion)",
            r"\b(?:is|he'?s|she'?s|they'?re|baby'?s|keeps|started)\s+(?:\w+\s+)?(?:fitting|seizing|"
            r"convulsing)\b|\b(?:is|he'?s|she'?s)\s+having\s+(?:a\s+)?(?:seizure|fit|convulsion)"
            r"\b(?!s)",
        ),
        "NHS, what to do if someone has a seizure (call 999: over 5 minutes, first fit)",
    ),
    _rule(
        "sudden_vision_loss",
        "Sudden loss of sight or double vision, a curtain or shadow over the vision, a shower of "
        "new floaters with flashes.",
        (
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,4}}?(?:(?:lost|loss\s+of|losing)\s+(?:\w+\s+){{0,3}}?"
            rf"(?:vision|sight|eyesight)|{_CANT}\s+see|blind\w*|black(?:ed)?\s+out|double\s+vision|"
            r"vision\s+(?:loss|went|is\s+gone|has\s+gone))",
            r"\b(?:lost|loss\s+of|losing|lose)\s+(?:\w+\s+)?(?:vision|sight|eyesight)\s+"
            rf"(?:\w+\s+){{0,4}}?(?:{_SUDDEN}|overnight|this\s+morning|an\s+hour\s+ago|minutes\s+ago)",
            r"\b(?:went|gone|going|turned)\s+blind\b",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,2}}?(?:blurr\w*|dim|dark\w*|misty|cloudy)\s+(?:\w+\s+)?vision",
            _near(
                r"\b(?:dark\s+)?(?:curtain|veil)\b|\bdark\s+shadow",
                r"\beyes?\b|\bvision|\bsight",
                60,
            ),
            r"\b(?:curtain|shadow|veil)\s+(?:\w+\s+){0,3}?(?:over|across|coming\s+(?:over|down|"
            r"across)|in\s+front\s+of)\s+(?:\w+\s+){0,2}?(?:vision|eyes?|sight)",
            r"\b(?:shower|burst|lots|loads)\s+of\s+(?:new\s+)?floaters|\bsudden\w*\s+(?:\w+\s+)?"
            r"floaters|\bflash\w*\s+(?:of\s+light\s+)?(?:and|with)\s+(?:\w+\s+)?floaters|"
            r"\bfloaters\s+(?:and|with)\s+(?:\w+\s+)?flash\w*",
        ),
        "NHS, loss of vision and flashes/floaters (A&E or 999); Royal College of Ophthalmologists",
    ),
    _rule(
        "eye_chemical_or_injury",
        "A chemical splashed in the eye, or something sharp or fast that went into it.",
        (
            rf"\b{_EYE_HARM}\s+(?:[\w']+\s+){{0,4}}?(?:in|into|on)\s+(?:[\w']+\s+){{0,2}}?eyes?\b",
            rf"\b(?:splash\w*|spray\w*|squirt\w*|spill\w*)\s+(?:\w+\s+){{0,4}}?eyes?\s+(?:\w+\s+)"
            rf"{{0,4}}?{_EYE_HARM}|\beyes?\s+(?:\w+\s+){{0,3}}?(?:splash\w*|spray\w*|squirt\w*)\s+"
            rf"(?:\w+\s+){{0,2}}?{_EYE_HARM}",
            r"\b(?:metal|glass|wire|nail|shard|splinter\s+of\s+(?:metal|glass)|dart|pencil|fish\s*"
            r"hook|firework)\s+(?:\w+\s+){0,4}?(?:in|into|stuck\s+in|went\s+in|hit)\s+(?:\w+\s+)?"
            r"eyes?\b|\b(?:stabbed|pierced|cut)\s+(?:\w+\s+){0,2}?eyes?\b",
        ),
        "NHS, eye injuries (chemicals or sharp objects: rinse and go to A&E); Royal College of "
        "Ophthalmologists",
    ),
    _rule(
        "acute_red_eye",
        "A painful eye (often red) in a contact-lens wearer, or with light hurting, blurred vision "
        "or halos round lights (keratitis, iritis, acute glaucoma): to be seen the same day.",
        (
            _near(_EYE_PAIN, _EYE_ALARM, 120),
            _together(
                r"\beyes?\b",
                _EYE_ALARM,
                r"\bpain\w*|\bhurts?\b|\bhurting|\bsore\b|\baching|\bthrobb\w*|\bagony",
                gap=80,
            ),
            rf"\b{_SEVERE}\s+(?:\w+\s+){{0,2}}?(?:eye\s*(?:pain|ache)|pain\s+in\s+(?:\w+\s+){{0,2}}?"
            r"eyes?\b)",
        ),
        "NHS, red eye and eye pain (urgent same-day care: contact lenses, light sensitivity, "
        "vision changes); NICE CKS, red eye",
        action="urgent",
    ),
    _rule(
        "testicular_torsion",
        "Sudden or severe pain or swelling in a testicle, a painful testicle sitting higher than "
        "the other, or testicle pain with vomiting (possible torsion).",
        (
            rf"\b(?:{_SUDDEN}|{_SEVERE})\s+(?:\w+\s+){{0,3}}?(?:pain|ache|aching|swelling)\s+"
            r"(?:\w+\s+){0,3}?(?:in|on|of|around)\s+(?:\w+\s+){0,2}?(?:testic\w*|testes|testis|"
            r"balls|scrotum)\b",
            r"\b(?:testic\w*|testes|testis|balls|scrotum)\s+(?:\w+\s+){0,4}?(?:sudden\w*|"
            r"severe(?:ly)?|excruciating|unbearabl\w*|agoni[sz]ing|extreme(?:ly)?|terribl\w*|"
            r"really\s+bad(?:ly)?|very\s+bad(?:ly)?)\b",
            r"\btwisted\s+(?:\w+\s+)?(?:testicle|testis)|\btorsion\b",
            rf"\b(?:{_SUDDEN}|{_SEVERE}|agony|agonising|agonizing)\s+(?:\w+\s+){{0,4}}?(?:in|on|of|"
            rf"around)\s+(?:\w+\s+){{0,2}}?{_TESTIS}",
            _together(
                _TESTIS,
                r"\b(?:higher|high\s+up|pulled\s+up|sideways|horizontal\w*|rid(?:es|ing)\s+high|"
                r"sitting\s+high\w*)\b",
                rf"{_SORE}|\bswollen|\bswelling",
                gap=100,
            ),
            _near(
                rf"{_TESTIS}\s+(?:[\w']+\s+){{0,3}}?(?:{_SORE})|(?:{_SORE})\s+(?:\w+\s+){{0,3}}?"
                rf"(?:in|on|of)\s+(?:\w+\s+){{0,2}}?{_TESTIS}",
                r"\bvomit\w*|\bthrow\w*\s+up|\bthrew\s+up|\bbeing\s+sick|\bnause\w*",
                100,
            ),
            _together(
                _TESTIS,
                _SORE,
                r"\bfor\s+(?:an?\s+|about\s+an?\s+|a\s+few\s+|a\s+couple\s+of\s+|\w+\s+)?hours?\b|"
                r"\bsince\s+(?:this\s+morning|an\s+hour|last\s+night)|\bwoke\s+(?:me|him)\s+up|"
                r"\bjust\s+started",
                gap=80,
            ),
        ),
        "NHS, testicle pain (sudden, very bad pain: go to A&E)",
    ),
    _rule(
        "priapism",
        "An erection lasting more than 4 hours.",
        (
            r"\berection\s+(?:\w+\s+){0,4}?(?:more\s+than|over|longer\s+than|for)\s+(?:[4-9]|four|"
            r"five|six|seven|eight|\d\d)\s+hours|\b(?:erection|penis)\s+(?:\w+\s+){0,3}?(?:won'?t|"
            r"will\s+not|doesn'?t|isn'?t)\s+go(?:ing)?\s+down|\bpriapism",
        ),
        "NHS, priapism (an erection lasting more than 4 hours: go to A&E)",
    ),
    _rule(
        "cauda_equina",
        "Back pain or sciatica with numbness around the bottom or genitals, or loss of bladder or "
        "bowel control.",
        (
            _near(
                _BACK,
                r"\b(?:numb\w*|no\s+feeling|can'?t\s+feel|tingl\w*|pins\s+and\s+needles|loss\s+of\s+"
                r"(?:feeling|sensation))\s+(?:\w+\s+){0,4}?(?:bottom|buttocks?|bum|genitals?|groin|"
                r"private\s+parts?|between\s+(?:my|the)\s+legs|saddle|anus|back\s+passage|perine\w*|"
                r"vagina|penis)|\bsaddle\s+(?:area\s+)?(?:numb\w*|an(?:a)?esthesia)",
                150,
            ),
            _near(
                _BACK,
                rf"{_CANT}\s+(?:\w+\s+)?(?:pee|urinat\w*|pass\s+urine|control\s+(?:my\s+)?(?:bladder|"
                r"bowels?))|\b(?:lost|losing|loss\s+of|no)\s+(?:\w+\s+)?(?:bladder|bowel)\s+control|"
                r"\b(?:wet|soiled)\s+myself|\bincontinen\w*",
                150,
            ),
        ),
        "NHS and NICE CKS, cauda equina syndrome (go to A&E immediately)",
    ),
    _rule(
        "diabetes_emergency",
        "Diabetes with ketones, fruity breath, repeated vomiting, fast breathing, confusion, "
        "drowsiness, a fit or passing out; a severe low: sweaty or shaky with confusion, "
        "drowsiness or strange behaviour.",
        (
            _near(
                r"\bdiabet\w*|\btype\s*(?:1|one)\b|\bblood\s+sugars?|\bglucose|\binsulin|"
                r"\blow\s+(?:blood\s+)?sugar|\bhypo(?:glyc\w*)?\b|\bhyperglyc\w*",
                r"\bketo\w*|\bdka\b|\bfruity\s+breath|\bbreath\s+(?:\w+\s+){0,2}?(?:fruity|like\s+"
                r"(?:pear\s+drops|nail\s+polish|acetone))|\b(?:keeps?|been|kept|constantly|"
                r"non[\s-]?stop)\s+(?:\w+\s+)?(?:vomit\w*|throwing\s+up|being\s+sick)|"
                rf"{_CANT}\s+keep\s+(?:\w+\s+){{0,2}}?down|\bbreathing\s+(?:\w+\s+)?(?:fast|deep\w*|"
                r"rapid\w*)|\b(?:very|extremely|really)\s+(?:drowsy|sleepy)|\bconfus\w*|"
                r"\bunconscious|\bpassed\s+out|\bfitting\b|\bseizure",
                150,
            ),
            # Rule set 3: a severe low (hypo) in someone on insulin or diabetes tablets: sweaty or
            # shaky, then confused, too drowsy to swallow, acting drunk.
            _together(
                _DIABETES,
                r"\bsweat\w*|\bclammy|\bshak\w*|\btrembl\w*|\bpale\b",
                rf"{_CONFUSED}|\b(?:very|really|so|too)\s+(?:drowsy|sleepy)|\bslurr\w*|\bacting\s+"
                rf"(?:drunk|strange\w*|odd\w*|weird\w*|aggressive)|\baggressive|{_CANT}\s+(?:swallow|"
                r"wake|stay\s+awake)|\bwon'?t\s+(?:wake|swallow)|\bunconscious|\bpassed\s+out|"
                r"\bfitting|\bseizure",
                gap=150,
            ),
        ),
        "NHS, diabetic ketoacidosis and low blood sugar (call 999 or go to A&E)",
    ),
    _rule(
        "severe_burn",
        "A large, deep (white, leathery, charred or painless), chemical or electrical burn, a "
        "pan or kettle of boiling liquid spilled over someone, or any burn or scald on a baby or "
        "child.",
        (
            _near(
                r"\b(?:burn|burns|burnt|burned|scald|scalds|scalded)\b(?!\s+(?:when|while|during|"
                r"after|if|with|because|sensation|feeling|like|to\s+pee))",
                rf"{_CHILD}|\b(?:\d|one|two|three|four)\s*-?\s*(?:years?|months?)\s*-?\s*old|"
                r"\bchemical|\bacid\b|\bbleach|\belectric\w*|\belectrocut\w*|\b(?:large|big|huge|"
                r"deep)\b|\bcharred|\bleathery|\b(?:3rd|third|full)[\s-]+(?:degree|thickness)|"
                r"\bboiling|\bfire\b|\bflames?|\bsmoke\s+inhal\w*",
                80,
            ),
            _near(
                _CHILD_AGED,
                r"\b(?:fell\s+into|pulled|spilled|spilt|knocked|tipped|poured|splashed|dropped|sat\s+in|"
                r"got\s+into|climbed\s+into)\s+(?:\w+\s+){0,5}?(?:boiling|scalding|(?:very\s+|really\s+)?"
                r"hot)\s+(?:\w+\s+)?(?:water|bath|tea|coffee|oil|fat|soup|milk|drink|kettle|pan|liquid)",
                100,
            ),
            r"\b(?:pulled|spilled|spilt|knocked|poured|tipped|splashed|dropped|fell\s+into)\s+"
            r"(?:\w+\s+){0,5}?(?:boiling|scalding)\s+(?:\w+\s+)?(?:water|oil|fat|tea|coffee|soup|milk|"
            r"kettle|pan|pot|liquid)|\b(?:boiling|scalding)\s+(?:\w+\s+)?(?:water|oil|fat|tea|coffee|"
            r"soup|milk)\s+(?:\w+\s+){0,3}?(?:over|on|onto|down)\s+(?:him|her|them|my|his|their|"
            r"the)\w*",
            _near(
                r"\b(?:burn|burns|burnt|burned|scald\w*|boiling|hot\s+(?:water|oil|fat)|fire|flames?)"
                r"\b",
                r"\bskin\s+(?:[\w']+\s+){0,4}?(?:white|leathery|charred|waxy|black(?:ened)?|peel\w*\s+"
                r"off|came\s+off|coming\s+off)|\b(?:white|leathery|charred|waxy|blackened)\s+(?:\w+\s+)?"
                r"(?:skin|patches?|areas?)",
                120,
            ),
        ),
        "NHS, burns and scalds (A&E for large, deep, chemical or electrical burns, under 5s)",
    ),
    _rule(
        "head_injury",
        "A head injury followed by vomiting, confusion, drowsiness, passing out, a fit, clear "
        "fluid or blood from the nose or ears, memory loss, or on blood thinners.",
        (
            _near(
                _HEAD_HIT,
                r"\bvomit\w*|\bthrew\s+up|\bthrowing\s+up|\b(?:been|being|keeps?\s+being)\s+sick|"
                r"\bconfus\w*|\bdrowsy|"
                r"\bsleepy|\bwon'?t\s+wake|\bhard\s+to\s+wake|\bknocked\s+out|\bpassed\s+out|"
                r"\bunconscious|\bblack(?:ed)?\s+out|\blost\s+consciousness|\bseizure|\bfit\b|"
                r"\bclear\s+fluid|\bfluid\s+(?:\w+\s+){0,3}?(?:nose|ears?)|\bblood\s+(?:\w+\s+)"
                r"{0,3}?ears?|\bcan'?t\s+remember|\bmemory\s+loss|\bslurr\w*|\bdouble\s+vision|"
                r"\b(?:worst|severe)\s+headache|\bblood\s+thinners?|\bwarfarin|\banticoagul\w*",
                150,
            ),
        ),
        "NHS, head injury and concussion (A&E); NICE NG232 (head injury)",
    ),
    _rule(
        "collapse",
        "Someone unconscious, unresponsive, not breathing or collapsed.",
        (
            r"\bunconscious\b(?!\s+(?:mind|thoughts?|bias))|\bunresponsive|\bnot\s+responding\b"
            r"(?!\s+to\s+(?:\w+\s+)?(?:treatment|medic\w*|antibiotics?|therapy|drugs?|tablets?))",
            rf"\b(?:won'?t|{_CANT})\s+(?:wake|rouse)\s+(?:him|her|them)\b|\b(?:is|was|isn'?t|wasn'?t)"
            r"\s+(?:not\s+)?waking\s+up\b",
            r"\b(?:stopped|isn'?t|is\s+not|not|wasn'?t)\s+breathing\b(?![^.?!,]{0,30}\b(?:nose|"
            r"nostrils?|nasal)\b)|\bno\s+pulse\b",
            r"\b(?:has|have|just|suddenly)\s+collapsed|\bcollapsed\s+(?:and|on|at|in|suddenly)\b",
        ),
        "NHS, when to call 999 (unconscious, not breathing, collapsed)",
    ),
    _rule(
        "severe_bleeding",
        "Bleeding that will not stop (still bleeding after 10 minutes of pressure), blood "
        "spurting, a deep wound, or a body part cut off.",
        (
            r"\b(?:bleed\w*|blood)\s+(?:\w+\s+){0,3}?(?:won'?t|will\s+not|doesn'?t|does\s+not|"
            r"isn'?t|can'?t|hasn'?t|has\s+not)\s+(?:stop\w*|slow\w*)",
            r"\b(?:spurting|pumping|pouring|squirting)\s+(?:out\s+)?(?:\w+\s+)?blood|\bblood\s+"
            r"(?:is\s+)?(?:spurting|pumping|pouring|squirting|gushing)",
            r"\b(?:deep|large|big|gaping)\s+(?:cut|wound|gash|laceration)\s+(?:\w+\s+){0,5}?"
            r"(?:bleed\w*|blood)",
            r"\b(?:cut|severed|chopped)\s+off\s+(?:\w+\s+)?(?:finger|toe|hand|thumb)",
            # Rule set 3: still bleeding after 10 minutes or more of pressure.
            r"\bstill\s+bleed\w*\s+(?:\w+\s+){0,4}?(?:after|despite)\s+(?:\w+\s+){0,4}?(?:press\w*|"
            r"pressure|\d{2,}\s*min\w*|(?:ten|fifteen|twenty|thirty|forty)\s+min\w*|an\s+hour|"
            r"holding)",
        ),
        "NHS, when to call 999 (severe bleeding that will not stop)",
    ),
    _rule(
        "major_injury",
        "A serious injury: bone through the skin, hit by a vehicle, a fall from height, a stab or "
        "gunshot wound.",
        (
            r"\bbone\s+(?:\w+\s+){0,3}?(?:sticking|poking)\s+(?:out|through)|\b(?:open|compound)"
            r"\s+fracture",
            r"\b(?:hit|knocked\s+(?:down|over)|run\s+over)\s+by\s+an?\s+(?:car|bus|truck|lorry|"
            r"motorbike|motorcycle|vehicle|train)",
            r"\bfell\s+(?:\w+\s+)?(?:from|off)\s+(?:a\s+|the\s+)?(?:roof|ladder|height|balcony|"
            r"building|second|third|2nd|3rd|tree|scaffold\w*)",
            r"\b(?:been|got|was|were|is|i'?m)\s+stabbed|\bstab\s+wound|\bgunshot|\bshot\s+"
            r"(?:in|through)\s+(?:the|my|his|her)\b",
        ),
        "NHS, when to call 999 (serious injuries)",
    ),
    _rule(
        "sudden_severe_pain",
        "Severe pain that came on suddenly, or a tearing pain in the chest or back.",
        (
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,2}}?{_SEVERE}\s+(?:\w+\s+){{0,2}}?pain",
            rf"\b{_SEVERE}\s+(?:\w+\s+){{0,3}}?pain\s+(?:\w+\s+){{0,4}}?(?:came\s+on\s+|started\s+|"
            rf"began\s+)?{_SUDDEN}",
            r"\b(?:tearing|ripping)\s+(?:\w+\s+)?pain\s+(?:\w+\s+){0,3}?(?:chest|back)",
        ),
        "NHS, when to go to A&E (sudden, severe pain); AHA, aortic dissection warning signs",
    ),
    _rule(
        "aortic_dissection",
        "A tearing or ripping pain in the chest, back or belly, or a sudden severe chest pain that "
        "goes through to the back or between the shoulder blades.",
        (
            r"\b(?:tearing|ripping|shredding)\s+(?:\w+\s+)?(?:pain|sensation|feeling|ache)\s+"
            r"(?:\w+\s+){0,6}?(?:chest|back|shoulder\s*blades?|abdomen|tummy|stomach|belly)\b",
            r"\b(?:chest|back|abdomen|tummy|stomach|belly)\s+(?:\w+\s+){0,4}?(?:pain|feels?)\s+"
            r"(?:\w+\s+){0,3}?like\s+(?:\w+\s+){0,3}?(?:tearing|ripping|torn|ripped)\b",
            rf"\b(?:{_SUDDEN}|{_SEVERE}|sharp|stabbing)\s+(?:\w+\s+){{0,3}}?(?:chest\s+pain|pain\s+"
            r"(?:\w+\s+){0,3}?chest)\s+(?:\w+\s+){0,6}?(?:through|into|to|towards|between)\s+"
            r"(?:\w+\s+){0,2}?(?:back|shoulder\s*blades)\b",
        ),
        "AHA and NHS, aortic dissection (sudden tearing chest or back pain: call 999)",
    ),
    _rule(
        "kidney_infection",
        "Signs of a urine infection (burning or pain on peeing) with a fever or shivering and "
        "pain in the side or back (a possible kidney infection).",
        (
            _together(_UTI, rf"{_FEVER}|{_HIGH_FEVER}", _FLANK_PAIN, gap=150),
            _near(
                r"\bkidney\s+infection|\bpyelonephritis",
                rf"{_FEVER}|{_HIGH_FEVER}|\bshaking|\bvomit\w*",
                120,
            ),
            _near(
                _UTI,
                r"\bshiver\w*|\bshaking\s+(?:\w+\s+)?(?:chills|uncontrollabl\w*)|\bchills\b|"
                r"\brigors\b|\bshak(?:ing|es)\s+(?:all\s+over|violently)",
                120,
            ),
        ),
        "NHS, kidney infection (see a GP urgently or call 111: UTI with fever, shivering and "
        "pain in the side or back); NICE NG111",
        action="urgent",
    ),
    _rule(
        "spreading_skin_infection",
        "Red, swollen skin (a patch, a bite, a wound) that is spreading or growing past a drawn "
        "line and is hot or with a fever, or a red streak tracking up from a wound (cellulitis).",
        (
            _together(
                r"\b(?:red|redness|reddish|infect\w*|cellulitis|swollen|swelling|bite|wound|cut|"
                r"graze|scratch|patch|lump|boil|abscess)\b",
                r"\bspread\w*|\bgetting\s+(?:\w+\s+)?(?:bigger|larger|wider)|\bgrow\w*\s+(?:bigger|"
                r"larger|fast|quickly)|\b(?:past|beyond|outside|over)\s+(?:the\s+)?(?:\w+\s+)?"
                r"(?:line|lines|mark|marks|outline|circle)\b",
                r"\bhot\b|\bwarm\b|\bfever\w*|\btemperature|\bshiver\w*|\bchills\b",
                gap=120,
            ),
            r"\bred\s+(?:streaks?|lines?)\s+(?:\w+\s+){0,4}?(?:up|along|going|spreading|running|"
            r"tracking|moving)\b",
        ),
        "NHS, cellulitis (urgent GP appointment or 111: red, hot, spreading skin, fever); NICE "
        "NG141",
        action="urgent",
    ),
    _rule(
        "sudden_hearing_loss",
        "Hearing lost suddenly (over hours, or on waking) in one or both ears, not explained by "
        "wax or water: to be seen the same day.",
        (
            _near(
                rf"{_SUDDEN}|\bwoke\s+up|\bwaking\s+up|\bwhen\s+i\s+woke|\bovernight|\bthis\s+"
                r"morning|\b(?:an?|few|couple\s+of|\w+)\s+hours?\s+ago|\bsince\s+(?:yesterday|"
                r"this\s+morning|last\s+night)",
                rf"{_CANT}\s+(?:\w+\s+)?hear\b|\b(?:lost|losing|loss\s+of|no)\s+(?:\w+\s+){{0,2}}?"
                r"hearing\b|\bhearing\b(?=(?:\s+[\w']+){0,5}?\s+(?:gone|went|loss|lost|muffled|"
                r"dropped|disappeared|stopped|dulled))|\bdeaf\b",
                80,
            ),
        ),
        "NICE CKS and ENT UK, sudden sensorineural hearing loss (same-day referral)",
        action="urgent",
        # A harmless explanation, unless it is one the person has already ruled out ("I thought it
        # was wax", "no wax").
        unless=r"(?<!thought\sit\swas\s)(?<!thought\sit\swas\sjust\s)(?<!assumed\sit\swas\s)"
        r"(?<!thought\sit\swas\sear\s)(?<!not\s)(?<!no\s)\b(?:ear\s*wax|wax|blocked|bunged|"
        r"plugged|swim\w*|water\s+(?:in|stuck)|syring\w*|glue\s+ear|concert|gig)\b",
    ),
    _rule(
        "quinsy",
        "A sore throat with trouble opening the mouth, trouble swallowing saliva or fluids, or a "
        "muffled voice (a possible throat abscess).",
        (_near(_THROAT, _QUINSY_SIGN, 120),),
        "NHS, quinsy and tonsillitis (go to A&E or urgent care: can't swallow or open mouth); "
        "NICE CKS, sore throat",
        action="urgent",
    ),
    _rule(
        "appendicitis",
        "Belly pain that starts around the belly button and moves to the lower right, or lower "
        "right pain with a fever, vomiting, or pain on walking or coughing.",
        (
            r"\b(?:belly\s*button|navel|umbilic\w*|(?:middle|centre|center)\s+of\s+(?:my\s+|his\s+|"
            r"her\s+|the\s+)?(?:tummy|stomach|belly|abdomen))\b.{0,120}?\b(?:moved|moving|"
            r"shifted|spread|went|travel\w*|migrat\w*|now|then)\b.{0,60}?"
            rf"(?:{_LOWER_RIGHT}|\bright\s+side\b)",
            r"\b(?:pain|ache)\b.{0,60}?\b(?:moved|shifted|spread|travel\w*|migrat\w*|went)\s+(?:\w+\s+)"
            r"{0,3}?(?:from\s+(?:the\s+)?(?:middle|centre|center|belly\s*button|navel)\s+)?(?:down\s+)?"
            r"(?:to|into)\s+(?:the\s+|my\s+)?(?:lower\s+|bottom\s+)?right\b(?!\s+(?:side\s+of\s+"
            r"(?:my\s+|the\s+)?)?(?:back|leg|arm|shoulder|chest|eye|ear|knee|foot|hip|neck|jaw))",
            _near(
                _LOWER_RIGHT,
                rf"{_FEVER}|{_HIGH_FEVER}|\bvomit\w*|\bthrow\w*\s+up|\bthrew\s+up|\bbeing\s+sick|"
                rf"{_WORSE_ON_MOVING}",
                150,
            ),
            _near(
                rf"{_SORE}",
                r"\b(?:is\s+(?:it|this)|could\s+(?:it|this)\s+be|might\s+(?:it|this)\s+be|worried\s+"
                r"(?:it'?s|it\s+is|about)|think\s+(?:i\s+have|it'?s|it\s+is))\s+(?:my\s+)?"
                r"(?:appendix|appendicitis)",
                120,
            ),
        ),
        "NHS, appendicitis (see a GP urgently or call 111; 999 if the pain spreads or gets worse)",
        action="urgent",
    ),
    _rule(
        "palpitations_with_fainting",
        "Palpitations or a racing heart with chest pain, breathlessness, fainting or blackouts.",
        (
            _near(
                r"\bpalpitations?|\bheart\s+(?:is\s+)?(?:racing|pounding)|\bracing\s+heart|"
                r"\bpounding\s+heart",
                rf"{_CHEST_PAIN}|\bfaint\w*|\bpass(?:ed|ing)?\s+out|\bblack(?:ed|ing)?\s*outs?|"
                rf"\blost\s+consciousness|\bcollaps\w*|{_BREATHLESS}",
                100,
            ),
        ),
        "NHS, heart palpitations (call 999 with chest pain, breathlessness or fainting)",
    ),
    # --- rule set 3 ---
    _rule(
        "aortic_aneurysm",
        "Belly pain going through to the back that came on suddenly or is severe, or with "
        "dizziness, fainting, sweating or pallor; or pain in someone known to have an aneurysm (a "
        "possible leaking abdominal aortic aneurysm).",
        (
            _near(
                _BELLY_TO_BACK,
                rf"{_SUDDEN}|{_SEVERE}|\bawful|\bfaint\w*|\bdizz\w*|\blight[\s-]?headed|"
                r"\bpass(?:ed|ing)?\s+out|\bcollaps\w*|\bsweat\w*|\bclammy|\bpale\b|\bgr[ae]y\b",
                120,
            ),
            _near(
                r"\b(?:puls\w*|throbb\w*|beating)\s+(?:\w+\s+){0,2}?(?:lump|mass|feeling|sensation)\s+"
                r"(?:\w+\s+){0,3}?(?:tummy|belly|stomach|abdomen)\b",
                rf"{_SORE}|\bfaint\w*|\bdizz\w*|\bcollaps\w*",
                150,
            ),
            _near(
                rf"(?:{_SUDDEN}|{_SEVERE})\s+(?:\w+\s+){{0,3}}?(?:back|tummy|belly|stomach|abdominal)\s+"
                r"pain",
                r"\bfainted|\bpass(?:ed|ing)?\s+out|\bcollaps\w*|\bblack(?:ed)?\s+out",
                120,
            ),
            _near(
                r"\b(?:aortic\s+)?aneurysm|\btriple\s+a\b|\baaa\b",
                rf"{_SORE}|\bfaint\w*|\bdizz\w*|\bcollaps\w*",
                100,
            ),
        ),
        "NHS, abdominal aortic aneurysm (call 999: sudden severe pain in the tummy or back, "
        "dizziness, fainting)",
    ),
    _rule(
        "giant_cell_arteritis",
        "A new headache or temple pain with a tender scalp or jaw pain on chewing, especially "
        "over 50 (giant cell arteritis): to be seen the same day.",
        (_GIANT_CELL_ARTERITIS,),
        "NHS and NICE CKS, giant cell arteritis (urgent same-day assessment; steroids before "
        "tests)",
        action="urgent",
    ),
    _rule(
        "giant_cell_arteritis_vision",
        "Signs of giant cell arteritis with any change in sight (blurring, double vision, loss "
        "of sight): an emergency, as the sight can be lost for good.",
        (_near(_GIANT_CELL_ARTERITIS, _VISION_CHANGE, 200),),
        "NHS, giant cell arteritis (go to A&E or call 999 with vision problems); NICE CKS",
    ),
    _rule(
        "postpartum_psychosis",
        "In the weeks after a birth: hearing voices, seeing things, strange beliefs (the baby "
        "is not hers, someone speaks to her through the radio), paranoia, mania, or thoughts of "
        "harming the baby.",
        (_near(_POSTNATAL, _PSYCHOSIS_SIGN, 200),),
        "Royal College of Psychiatrists and NHS, postpartum psychosis (a medical emergency: "
        "same-day mental health assessment, 999 if anyone is at risk)",
    ),
    _rule(
        "chemical_fumes",
        "Cleaning chemicals mixed (bleach with ammonia or an acid), or fumes, gas or smoke "
        "breathed in, with coughing, a tight chest, wheezing or breathlessness.",
        (_near(_MIXED_CHEMICALS, _AIRWAY_SIGN, 150),),
        "NHS, poisoning (call 999 with breathing problems); UKHSA, chemical incidents",
    ),
    _rule(
        "carbon_monoxide",
        "Headaches, dizziness, sickness or drowsiness in several people (or pets) in the same "
        "home, better away from it, or with a faulty boiler, gas fire or heater (yellow flame, "
        "soot, a CO alarm going off).",
        (
            _near(_CO_SYMPTOM, _CO_FAULT, 200),
            _together(_CO_SYMPTOM, _CO_APPLIANCE, rf"{_CO_SHARED}|{_CO_AWAY}", gap=200),
            _together(_CO_SYMPTOM, _CO_SHARED, _CO_AWAY, gap=200),
        ),
        "NHS, carbon monoxide poisoning (leave the building; A&E for symptoms); Gas Safe "
        "Register (yellow or orange flames, soot)",
    ),
    _rule(
        "severe_asthma",
        "Asthma or a reliever inhaler not helping, or needed every few hours or many puffs at a "
        "time, with wheezing, a tight chest, coughing or breathlessness.",
        (
            _together(
                _ASTHMA,
                _NOT_RELIEVED,
                rf"\bwheez\w*|{_BREATHLESS}|{_CHEST_TIGHT}|\bcough\w*|{_CANT}\s+(?:speak|talk|"
                r"finish)|\bwak\w*\s+(?:\w+\s+){0,3}?(?:night|up)",
                gap=150,
            ),
            _near(r"\basthma\s+attack|\battack\s+of\s+asthma", _NOT_RELIEVED, 150),
        ),
        "NHS and Asthma + Lung UK, asthma attack (call 999 if the reliever is not helping; "
        "urgent help if it is needed more than every 4 hours)",
    ),
    _rule(
        "after_choking",
        "After a choking episode (or something breathed in): still coughing, wheezing (on one "
        "side), noisy breathing, or feeling it is still stuck: to be checked the same day.",
        (
            _near(
                r"\bchok(?:ed|ing)\b(?!\s+up\b|\s+(?:feeling|sensation))|\bback\s+(?:slaps|blows|"
                r"thumps)|\bheimlich|\babdominal\s+thrusts|\b(?:inhaled|breathed\s+in)\s+(?:a|an|"
                r"some|the)\b|\bwent\s+down\s+the\s+wrong\s+(?:way|hole|pipe)",
                r"\bstill\s+(?:\w+\s+)?(?:cough\w*|wheez\w*|gagg\w*|choking|struggling)|"
                r"\b(?:cough\w*|wheez\w*)\s+(?:\w+\s+){0,3}?(?:ever\s+since|for\s+(?:hours|days|an\s+"
                r"hour|the\s+last))|\bwheez\w*\s+(?:\w+\s+){0,4}?(?:one|left|right)\s+side|"
                r"\bone[\s-]sided\s+wheez\w*|\bsomething\s+(?:\w+\s+)?still\s+(?:stuck|there)|"
                r"\bstill\s+feel\w*\s+(?:like\s+)?(?:\w+\s+){0,3}?stuck|\bnoisy\s+breath\w*",
                200,
            ),
        ),
        "Resuscitation Council UK, choking (anyone who had a choking episode with a persistent "
        "cough or difficulty swallowing must see a doctor); NHS",
        action="urgent",
    ),
    _rule(
        "stridor_or_recession",
        "A high-pitched noise on breathing in (stridor) at rest or with a barking cough, or a "
        "child's tummy, ribs or neck sucking in with each breath.",
        (
            _near(_STRIDOR, _BREATHING_IN, 100),
            _near(rf"{_CHILD_AGED}|{_INFANT}|\bbreath\w*|\bribs?\b", _RECESSION, 150),
        ),
        "NHS, croup (call 999: high-pitched noise when breathing in, the tummy or ribs sucking "
        "in); NICE CKS, croup",
    ),
    _rule(
        "infant_breathing_difficulty",
        "A baby or toddler with pauses in breathing, or breathing fast, grunting or flaring the "
        "nostrils while feeding less (bronchiolitis or another chest infection).",
        (
            _near(_INFANT, _APNOEA, 150),
            _together(
                _INFANT, _FAST_BREATHING, rf"{_FEEDING_LESS}|{_APNOEA}|{_RECESSION}", gap=150
            ),
        ),
        "NICE NG9 (bronchiolitis: 999 for pauses in breathing or grunting, refer with fast "
        "breathing and poor feeding); NHS, bronchiolitis",
    ),
    _rule(
        "pneumothorax",
        "A sudden or sharp chest pain, often on one side, with breathlessness or being unable "
        "to take a full breath (a possible collapsed lung).",
        (
            _near(
                rf"(?:{_SUDDEN}|\bsharp|\bstabbing)\s+(?:[\w']+\s+){{0,5}}?(?:{_SIDE_CHEST_PAIN})|"
                rf"(?:{_SIDE_CHEST_PAIN})\s+(?:[\w']+\s+){{0,4}}?(?:came\s+on\s+|started\s+)?{_SUDDEN}",
                rf"{_CANT}\s+(?:take|get|draw)\s+(?:a\s+)?(?:full|deep|proper|big)\s+breath|\bair\s+"
                r"(?:\w+\s+){0,2}?(?:doesn'?t|does\s+not|won'?t|isn'?t|can'?t)\s+(?:go(?:ing)?|"
                rf"get(?:ting)?)\s+in\b|{_BREATHLESS}",
                100,
            ),
            _near(
                r"\b(?:collapsed|punctured)\s+lung|\blung\s+(?:has\s+|had\s+)?collapsed|"
                r"\bpneumothorax",
                rf"{_BREATHLESS}|{_CHEST_PAIN}|\bsharp\s+pain",
                100,
            ),
        ),
        "NHS, collapsed lung (pneumothorax: go to A&E with sudden chest pain and breathlessness)",
    ),
    _rule(
        "neutropenic_sepsis",
        "A temperature (37.5\u00b0C or more), shivering or feeling unwell during or after "
        "chemotherapy (possible neutropenic sepsis).",
        (
            _near(
                r"\bchemo\w*|\bchemotherapy|\b(?:on|having|getting|started)\s+(?:\w+\s+)?(?:cancer|"
                r"leuka?emia|lymphoma)\s+(?:treatment|drugs)|\blow\s+(?:white\s+(?:blood\s+)?cell|"
                r"neutrophil)\s+count|\bneutropeni\w*",
                rf"{_FEVER}|{_HIGH_FEVER}|\b37[.,][5-9]|\bshivery|\bfe(?:el|lt)\w*\s+(?:\w+\s+)?"
                r"(?:unwell|shivery|hot\s+and\s+cold)|\bflu[\s-]like",
                150,
            ),
        ),
        "NICE NG151 (neutropenic sepsis: a fever after chemotherapy is an emergency); UKONS "
        "acute oncology triage",
    ),
    _rule(
        "septic_arthritis",
        "A child with a fever who will not walk or bear weight or screams when a leg is moved, "
        "or a hot or red joint with a fever (a possible joint or bone infection).",
        (
            _together(_CHILD_AGED, rf"{_FEVER}|{_HIGH_FEVER}", _NOT_WEIGHT_BEARING, gap=150),
            _together(
                r"\b(?:knee|hip|ankle|elbow|wrist|shoulder|joint)s?\b",
                r"\b(?:hot|red|warm)\b",
                rf"{_FEVER}|{_HIGH_FEVER}",
                gap=80,
            ),
        ),
        "NHS, septic arthritis (go to A&E: a hot, swollen joint with a high temperature); NICE "
        "NG143 (a non-weight-bearing limb with fever)",
        action="urgent",
    ),
    _rule(
        "new_type_one_diabetes",
        "Thirst and passing a lot of urine with weight loss, or in a child: possible new type 1 "
        "diabetes, to be tested the same day.",
        (
            _together(_THIRST, _PEEING, _WEIGHT_LOSS, gap=150),
            _together(_MINOR, _THIRST, rf"{_PEEING}|{_WEIGHT_LOSS}", gap=150),
        ),
        "NICE NG18 (suspected type 1 diabetes in a child: same-day referral); NHS, type 1 "
        "diabetes; Diabetes UK, the 4 Ts",
        action="urgent",
    ),
    _rule(
        "pre_eclampsia",
        "In the second half of a pregnancy or after a birth: two of a bad headache, changes in "
        "vision (flashing or zigzag lights, blurring), a swollen face or hands, pain below the "
        "ribs, or high blood pressure (possible pre-eclampsia).",
        (
            _near(
                _LATER_PREGNANCY,
                _two_of(
                    _HEADACHE,
                    r"\b(?:zig[\s-]?zag\w*|flashing|flashes|flickering|sparkl\w*|spots|stars|"
                    r"shimmer\w*)\s+(?:\w+\s+){0,2}?(?:lights?|lines|vision|in\s+(?:my|her)\s+"
                    r"(?:vision|eyes?)|before\s+(?:my|her)\s+eyes)|\bseeing\s+(?:\w+\s+)?(?:zig[\s-]?"
                    r"zags?|flash\w*|spots|stars|lights|sparkl\w*)|\bblurr\w*\s+vision|\bvision\s+"
                    r"(?:\w+\s+){0,2}?(?:blurr\w*|funny|strange|odd|weird|dim)",
                    r"\b(?:face|hands|fingers|eyes|eyelids)\s+(?:[\w']+\s+){0,5}?(?:swollen|swelling|"
                    r"swelled|puff\w*|bloated)|\b(?:swollen|puffy)\s+(?:\w+\s+)?(?:face|hands|"
                    r"fingers|eyes|eyelids)|\b(?:sudden|rapid)\s+swelling",
                    r"\bpain\s+(?:\w+\s+){0,3}?(?:(?:just\s+)?(?:below|under)\s+(?:my|her|the)\s+ribs|"
                    r"upper\s+(?:right\s+)?(?:tummy|abdomen|belly|stomach))",
                    r"\b(?:high|raised)\s+(?:blood\s+pressure|bp)|\bprotein\s+in\s+(?:my|her|the)\s+"
                    r"(?:urine|wee|pee)",
                    gap=150,
                ),
                150,
            ),
        ),
        "NICE NG133 and NHS, pre-eclampsia (call your maternity unit or 999 now: severe "
        "headache, vision problems, sudden swelling, pain below the ribs)",
    ),
    _rule(
        "bowel_obstruction",
        "No wind or poo passed with vomiting or a swollen belly, or green (bile) vomiting with "
        "a swollen belly, no poo, or in a baby (a possible blocked bowel).",
        (
            _together(_NO_WIND, rf"{_VOMITING}|{_GREEN_VOMIT}|{_SWOLLEN_BELLY}", gap=200),
            _together(_NO_POO, rf"{_VOMITING}|{_GREEN_VOMIT}", _SWOLLEN_BELLY, gap=200),
            _near(_GREEN_VOMIT, rf"{_SWOLLEN_BELLY}|{_NO_POO}|{_INFANT}", 150),
        ),
        "NHS, bowel obstruction (go to A&E); NHS, vomiting in babies (green vomit: call 999)",
    ),
    _rule(
        "urinary_retention",
        "Unable to pass urine for hours, or at all, often with a swollen, painful lower belly.",
        (
            _near(
                rf"{_CANT}\s+(?:\w+\s+){{0,2}}?(?:pee|wee|urinate|pass\s+(?:any\s+)?(?:urine|water))\b|"
                r"\b(?:haven'?t|hasn'?t|have\s+not|has\s+not)\s+(?:been\s+able\s+to\s+)?(?:\w+\s+)?"
                r"(?:pee|peed|wee|weed|urinated|pass\s+(?:any\s+)?(?:urine|water)|passed\s+(?:any\s+)?"
                r"(?:urine|water))\b|\bnothing\s+(?:\w+\s+)?comes?\s+out\s+when\s+(?:i|he)\s+(?:try|"
                r"tries)",
                r"\bat\s+all\b|\bsince\s+(?:last\s+night|yesterday|this\s+morning|lunch|\d+)|\bfor\s+"
                r"(?:over\s+)?(?:\d+|a\s+few|several|many|\w+)\s+hours|\ball\s+day|\b(?:bladder|lower"
                r"\s+(?:tummy|belly|abdomen|stomach)|tummy|belly)\s+(?:[\w']+\s+){0,3}?(?:swollen|"
                r"full|bursting|hard|distended|pain\w*|agony|hurts?)|\bagony|\bbursting",
                100,
            ),
        ),
        "NHS, urinary retention (acute retention: go to A&E); NICE CKS, LUTS in men",
    ),
    _rule(
        "delirium",
        "Sudden confusion (over hours or a day or two): muddled, not knowing the day or place, "
        "seeing things that are not there.",
        (
            _near(
                rf"{_SUDDEN}|\bsince\s+(?:yesterday|this\s+morning|last\s+night)|\bovernight|"
                r"\b(?:over|in|during)\s+(?:the\s+)?(?:last|past)\s+(?:day|24\s+hours|few\s+hours|"
                r"couple\s+of\s+days|two\s+days)|\bover\s+(?:a\s+day|"
                r"two\s+days|a\s+few\s+hours)|\bwas\s+(?:fine|normal|"
                r"sharp|okay|ok|perfectly\s+fine|(?:\w+\s+)?sharp\s+as\s+\w+)\s+(?:\w+\s+){0,2}?"
                r"(?:yesterday|last\s+week|this\s+morning|before)",
                rf"{_CONFUSED}|{_HALLUCINATING}",
                100,
            ),
        ),
        "NHS, sudden confusion (call 999 or go to A&E); NICE CG103 (delirium)",
    ),
    _rule(
        "heatstroke",
        "In the heat (a heatwave, the sun, a hot car): confusion, no sweating with hot skin, "
        "a fit, collapse or a temperature of 40\u00b0C.",
        (
            _near(
                r"\bheat\s*waves?|\bheat\s*stroke|\bsun\s*stroke|\bhot\s+(?:weather|day|sun|car|room|"
                r"flat|kitchen|weekend|spell)|\bin\s+(?:the|this)\s+(?:heat|sun)\b|\bheat\s+"
                r"exhaustion|\boverheat\w*|\b(?:burning|very|really|so)\s+hot\s+to\s+(?:the\s+)?touch|"
                r"\bhot,?\s+(?:and\s+)?dry\s+skin|\bskin\s+(?:is\s+)?(?:hot\s+and\s+dry|dry\s+and\s+hot)",
                rf"{_CONFUSED}|\b(?:stopped|not|isn'?t|no\s+longer)\s+sweating|\bcollaps\w*|"
                r"\bpassed\s+out|\bfitting|\bseizure|\bunconscious|\bunresponsive|\b4[0-2](?:[.,]\d)?"
                r"\s*(?:\u00b0|degrees?|c\b)|\b10[4-8](?:[.,]\d)?\s*(?:\u00b0|degrees?|f\b)|\bslurr\w*",
                150,
            ),
        ),
        "NHS, heat exhaustion and heatstroke (call 999: confused, not sweating, a fit, "
        "unconscious, 40\u00b0C)",
    ),
    _rule(
        "acute_limb_ischaemia",
        "An arm or leg that suddenly turns cold, pale, white or blue and is painful, numb or "
        "hard to move (a blocked artery).",
        (
            _together(
                _LIMB_COLD,
                _LIMB_DEAD,
                rf"{_SUDDEN}|\bhours?\s+ago|\bthis\s+(?:morning|afternoon|evening)|\bsince\s+"
                r"(?:this\s+morning|last\s+night)",
                gap=120,
            ),
        ),
        "NHS and NICE CG147, acute limb ischaemia (the 6 Ps: call 999)",
        unless=r"\braynaud|\bchilblains?|\b(?:in|from)\s+(?:the\s+)?cold\s+(?:weather|water|air)|"
        r"\bwhen\s+(?:it'?s|it\s+is|i'?m|i\s+am|i\s+get)\s+cold|\bwinter|\bslept\s+on|"
        r"\bsleep\w*\s+on\s+(?:it|my)",
    ),
    _rule(
        "spreading_dental_infection",
        "Toothache or a dental abscess with swelling spreading to the eye, under the jaw or "
        "into the neck, or with trouble swallowing or breathing.",
        (
            _near(
                r"\btooth|\bteeth|\btoothache|\bdental|\bmolar|\bwisdom|\bgums?\b|\babscess",
                r"\bswell\w*\s+(?:\w+\s+){0,8}?(?:neck|under\s+(?:my\s+|his\s+|her\s+|the\s+)?(?:jaw|"
                r"chin|tongue)|(?:my\s+|his\s+|her\s+)?eye|throat)\b|\b(?:neck|eye|under\s+"
                r"(?:my\s+|his\s+|her\s+)?jaw)\s+(?:[\w']+\s+){0,3}?(?:swollen|swelling|puff\w*)|"
                rf"{_CANT}\s+(?:\w+\s+)?(?:swallow|breathe)|\b(?:hard|harder|difficult|difficulty|"
                r"trouble|struggling)\s+(?:to\s+|with\s+)?(?:swallow\w*|breath\w*)|\btongue\s+"
                r"(?:\w+\s+){0,2}?(?:raised|pushed\s+up)",
                150,
            ),
            # A swelling from the tooth that has spread to the eye or the neck.
            r"\bswell\w*\s+(?:\w+\s+){0,4}?(?:tooth|teeth|gums?|abscess|molar)\s+(?:[\w']+\s+){0,6}?"
            r"(?:neck|eye|under\s+(?:\w+\s+)?(?:jaw|chin)|throat)\b",
        ),
        "NHS, dental abscess (go to A&E: swelling around the eye or in the neck, difficulty "
        "breathing or swallowing)",
    ),
    _rule(
        "shingles_near_eye",
        "Shingles or a blistering rash on the forehead, around the eye or on the tip of the nose, "
        "or with a red, sore eye or blurred sight: to be seen the same day.",
        (
            _near(
                r"\bshingles|\b(?:blister\w*|vesic\w*)\s+(?:\w+\s+)?(?:rash|spots|patch)|\brash\s+"
                r"(?:\w+\s+){0,3}?blister\w*",
                r"\bforehead|\btip\s+of\s+(?:my\s+|his\s+|her\s+|the\s+)?nose|\b(?:around|near|above|"
                r"on|in|by|into)\s+(?:my\s+|his\s+|her\s+|the\s+)?(?:eye|eyes|eyelids?|eyebrow|eye\s+"
                r"lid)\b|\beyes?\s+(?:[\w']+\s+){0,3}?(?:red|sore|pain\w*|hurt\w*|blurr\w*|swollen|"
                r"watering|sensitive)|\bscalp\b",
                150,
            ),
        ),
        "NHS, shingles (urgent GP appointment or 111 if it is near the eye); NICE CKS, herpes "
        "zoster ophthalmicus",
        action="urgent",
    ),
    _rule(
        "acute_glaucoma",
        "A painful eye with halos or rainbows round lights, or a red, painful eye with vomiting "
        "(possible acute angle-closure glaucoma).",
        (
            _near(_EYE_PAIN, _HALOS, 150),
            _near(
                _together(_EYE_PAIN, r"\bred\b|\bredness|\bbloodshot", gap=80)
                + r"|\beyes?\s+(?:[\w']+\s+){0,3}?(?:red|bloodshot)\s+(?:[\w']+\s+){0,3}?"
                r"(?:pain\w*|sore|hurt\w*|agony)",
                rf"{_VOMITING}|\bnause\w*",
                100,
            ),
        ),
        "NHS, glaucoma (acute angle-closure: go to A&E immediately); Royal College of "
        "Ophthalmologists",
    ),
    _rule(
        "airway_swelling",
        "A sore throat, tonsils or a swelling in the mouth or neck with difficulty breathing or "
        "noisy breathing (the airway may be closing).",
        (
            _near(
                rf"{_THROAT}|\bswollen\s+(?:\w+\s+)?(?:neck|tongue)",
                rf"(?:{_CANT}\s+breathe|\b(?:hard|harder|difficult|difficulty|trouble|struggl\w*)\s+"
                r"(?:to\s+|in\s+|with\s+)?breath\w*|\bnoisy\s+breath\w*|\bstridor|\bgasping)"
                r"(?![^.?!,]{0,30}\b(?:nose|nostrils?|nasal)\b)",
                150,
            ),
        ),
        "NHS, quinsy and epiglottitis (call 999 or go to A&E with difficulty breathing)",
    ),
)


def red_flags(message: str) -> list[RedFlagRule]:
    """The rules the user's message matches, in :data:`RULES` order (empty: no red flag)."""
    plain = normalise(message)
    return [rule for rule in RULES if rule.matches(plain)]


def notice_for(message: str) -> str | None:
    """The notice to show before the answer to ``message``: the most pressing of its red flags'
    (crisis line, then emergency, then urgent); None when it shows none."""
    shown = {rule.notice for rule in red_flags(message)}
    return next((notice for notice in NOTICES if notice in shown), None)


def with_notice(notice: str | None, answer: str) -> str:
    """The answer as shown: the notice, a blank line, the answer (the notice alone while the
    answer is still empty; the answer alone when there is no notice)."""
    if notice is None:
        return answer
    return f"{notice}\n\n{answer}" if answer else notice


def guard_answer(message: str, answer: str) -> str:
    """``answer`` with the notice for ``message`` before it, or unchanged when there is none."""
    return with_notice(notice_for(message), answer)


def strip_notice(text: str) -> str:
    """``text`` without a leading guard notice: what the model answered, for the history."""
    for notice in NOTICES:
        if text.startswith(notice):
            return text[len(notice) :].lstrip()
    return text
