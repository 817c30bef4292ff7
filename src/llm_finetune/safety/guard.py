"""The red-flag guard of the chats: when the user's message describes a published red flag
(chest pain with sweating, face drooping, "I want to end my life", a 6-week-old with a fever ...),
both chats show a plain notice to get emergency help before the model's answer.

Why a fixed rule set in front of the model: a 135M-parameter model fine-tuned on forum answers
cannot be relied on to say "call 911"; the guard does not depend on it, is the same for every
model version, and is versioned (:data:`RULESET_VERSION`) so that an evaluation can report the
model with and without it. Each rule follows a published "call your emergency number / go to
the emergency department" list (its ``source``) and is written in lay phrasing; it reads the
message's normal form (:func:`~llm_finetune.safety.text.normalise`) and skips a negated mention
("I don't have chest pain"), except for self-harm, where a denial still gets the crisis line.

False alarms matter too: a guard that fires on every question is ignored.
``benchmarks/safety_guard_alarms.py`` measures how many real questions it flags (target: at
most 5%), and lists them so that each can be judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from llm_finetune.safety.text import negated, normalise

#: Bump whenever a rule or a notice changes: evaluation results name the version they used.
RULESET_VERSION = "1"

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
    "\u26a0 If you are thinking about suicide or harming yourself, please talk to someone now: "
    "call or text 988 (Suicide & Crisis Lifeline, US), call Samaritans on 116 123 (UK and "
    "Ireland), or call your local emergency number (911 in the US, 112 in the EU, 999 in the UK). "
    "This chatbot cannot help in a crisis."
)
#: Every notice the guard can show, most pressing first.
NOTICES = (CRISIS_NOTICE, EMERGENCY_NOTICE, URGENT_NOTICE)


@dataclass(frozen=True)
class RedFlagRule:
    """One red flag: the message matches when any pattern matches a part that is not negated."""

    name: str
    description: str
    patterns: tuple[re.Pattern[str], ...]
    action: Action
    source: str
    #: Self-harm: a denial ("I'm not suicidal but ...") still gets the crisis line.
    negatable: bool = True
    crisis: bool = False

    @property
    def notice(self) -> str:
        if self.crisis:
            return CRISIS_NOTICE
        return EMERGENCY_NOTICE if self.action == "emergency" else URGENT_NOTICE

    def matches(self, plain: str) -> bool:
        """Whether the normalised message ``plain`` shows this red flag."""
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
    **flags: bool,
) -> RedFlagRule:
    compiled = tuple(re.compile(pattern, re.DOTALL) for pattern in patterns)
    return RedFlagRule(name, description, compiled, action, source, **flags)


def _near(first: str, second: str, gap: int = 120) -> str:
    """``first`` and ``second`` within ``gap`` characters of each other, in either order."""
    return rf"(?:{first}).{{0,{gap}}}?(?:{second})|(?:{second}).{{0,{gap}}}?(?:{first})"


_CANT = r"(?:can'?t|cannot|can\s+not|couldn'?t|unable\s+to)"
_SUDDEN = r"(?:sudden(?:ly)?|all\s+of\s+a\s+sudden|out\s+of\s+nowhere)"
_SEVERE = (
    r"(?:severe|excruciating|unbearable|agoni[sz]ing|extreme|intense|terrible|horrible|"
    r"worst|crushing|tearing|ripping|really\s+bad|very\s+bad)"
)

# --- heart ---
_CHEST_PAIN = (
    r"\b(?:chest|breast\s*bone|sternum)\s+(?:\w+\s+){0,2}?(?:pains?|ache|aching|hurts?|hurting|"
    r"pressure|tightness|tight|heaviness|heavy|discomfort|squeez\w*|crush\w*)|"
    r"\b(?:pains?|ache|pressure|tightness|heaviness|discomfort|squeez\w*|crush\w*)\s+"
    r"(?:\w+\s+){0,3}?(?:in|on|across|around|at|behind)\s+(?:my|his|her|their|the)\s+"
    r"(?:chest|breast\s*bone|sternum)|\bangina\b|"
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
    rf"{_CANT}\s+breathe|(?:hard|difficult|difficulty|trouble)\s+(?:to\s+|in\s+)?breath\w*"
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
    r"nicotine\s+liquid|mouthwash|hand\s+saniti[sz]\w*|battery\s+acid|\blye\b"
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

RULES: tuple[RedFlagRule, ...] = (
    _rule(
        "heart_attack",
        "Chest pain, pressure or tightness with sweating, breathlessness, nausea, "
        "light-headedness, pain spreading to the arm, jaw, neck or back, or brought on by "
        "exertion.",
        (
            _near(_CHEST_PAIN, _HEART_SIGN),
            r"\b(?:having|is\s+this|could\s+(?:this|it)\s+be|am\s+i\s+having|think\s+"
            r"(?:i'?m|i\s+am|he'?s|he\s+is|she'?s|she\s+is|it'?s|it\s+is)\s+(?:having\s+)?)"
            r"\s*an?\s+heart\s+attack",
        ),
        "American Heart Association, heart attack warning signs; NHS, heart attack symptoms",
    ),
    _rule(
        "stroke",
        "FAST / BE-FAST signs: face drooping, sudden weakness or numbness on one side, slurred or "
        "lost speech, sudden confusion or loss of balance.",
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
            r"\bslurr\w*|\bwords?\s+(?:are\s+|were\s+|keep\s+|is\s+)?(?:coming\s+out\s+)?"
            r"(?:all\s+)?(?:wrong|jumbled|garbled|muddled)|"
            rf"{_CANT}\s+(?:get\s+(?:my|his|her|their|the)\s+words\s+out|speak\s+properly|"
            r"talk\s+properly|form\s+words)|\bspeech\s+(?:is\s+|was\s+|has\s+|became\s+|went\s+)?"
            r"(?:\w+\s+)?(?:garbled|jumbled|muddled|gone)",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,3}}?(?:{_CANT}\s+(?:speak|talk|walk|stand)|confus\w*|"
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
        "a medicine; an adrenaline auto-injector used.",
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
                r"eating|ate|taking|took|latex)\b|\b(?:stung|bee\s+sting|wasp\s+sting)\b",
                80,
            ),
            r"\b(?:having|going\s+into|in)\s+(?:an?\s+)?anaphyla\w*|\banaphylactic\s+(?:shock|"
            r"reaction)|\bsevere\s+allergic\s+reaction",
            r"\b(?:used|gave|give|injected|had\s+to\s+use|using)\s+(?:\w+\s+){0,2}?epi[\s-]?pens?",
        ),
        "NHS, anaphylaxis; Resuscitation Council UK, emergency treatment of anaphylaxis",
    ),
    _rule(
        "severe_breathlessness",
        "Cannot breathe or talk in full sentences, gasping, lips or skin turning blue, choking, "
        "sudden or severe breathlessness, a child's ribs sucking in.",
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
            r"\b(?:is|am|he'?s|she'?s|baby'?s|keeps)\s+choking\b(?!\s+me\b)|\bchoking\s+on\s+(?!(?:my|his|her)"
            r"\s+(?:saliva|spit))",
            r"\b(?:ribs|chest|skin\s+between\s+(?:the\s+|his\s+|her\s+)?ribs)\s+(?:\w+\s+){0,2}?"
            r"(?:sucking|pulling|sinking)\s+in\b",
        ),
        "NHS, when to call 999 (severe difficulty breathing, choking); NHS, shortness of breath",
    ),
    _rule(
        "self_harm",
        "Thoughts of suicide or self-harm, wanting to die or to end one's life.",
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
            r"\bhang\s+myself|\bjump\s+off\s+(?:a\s+|the\s+)?(?:bridge|building|roof|cliff)",
        ),
        "988 Suicide & Crisis Lifeline and Samaritans guidance; NICE NG225 (self-harm)",
        negatable=False,
        crisis=True,
    ),
    _rule(
        "overdose_or_poisoning",
        "Too many pills or a whole bottle taken, an overdose, or a poison, chemical, button "
        "battery or magnet swallowed.",
        (
            r"\b(?:i|he|she|they|we|has|have|just|i'?ve)\s+(?:\w+\s+)?overdosed\b|\boverdosing\b|"
            r"\b(?:took|taken|take|had|done|did)\s+(?:an?\s+)?overdose|"
            r"\bo\.?d'?(?:ed|'d)\b",
            r"\b(?:took|taken|swallowed|ate|had|popped|drank)\s+(?:\w+\s+){0,2}?(?:whole|entire|"
            r"full)\s+(?:bottle|pack\w*|box|strip|sheet|blister|jar|tub)",
            r"\b(?:took|taken|swallowed|ate|had|popped)\s+(?:\w+\s+){0,2}?(?:too\s+many|lots\s+of|"
            r"a\s+lot\s+of|loads\s+of|(?:a\s+)?handful\s+of|all\s+(?:of\s+)?(?:my|his|her|their|"
            rf"the))\s+(?:\w+\s+){{0,2}}?(?:{_MEDS})",
            r"\b(?:took|taken|swallowed)\s+(?:\d{2,}|fifteen|twenty|thirty|forty|fifty)\s+(?:\w+\s+)?"
            rf"(?:{_MEDS})",
            r"\b(?:swallowed|drank|drunk|ingested|ate|eaten|chewed|licked|got\s+into)\s+"
            rf"(?:\w+\s+){{0,3}}?(?:{_POISON})",
            r"\b(?:been|was|were|got|i'?m|is)\s+(?:\w+\s+)?poisoned\b|\bcarbon\s+monoxide",
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
        "A rash that does not fade under a glass, a stiff neck with fever, vomiting or dislike of "
        "light, or a baby's bulging soft spot.",
        (
            r"\brash\s+(?:that\s+)?(?:\w+\s+){0,2}?(?:doesn'?t|does\s+not|won'?t|didn'?t|did\s+not|"
            r"not)\s+(?:fade|blanch)|\bnon[\s-]?blanching|\b(?:glass|tumbler)\s+test",
            _near(
                r"\bstiff\s+neck|\bneck\s+(?:is\s+)?(?:very\s+)?stiff\b|"
                rf"{_CANT}\s+(?:bend|touch|put)\s+(?:\w+\s+){{0,2}}?chin",
                rf"{_FEVER}|\bvomit\w*|\blight\s+hurts|\b(?:dislike|hates?|can'?t\s+stand|sensitive"
                r"\s+to)\s+(?:bright\s+)?light|\bphotophobia|\brash\b|\bdrowsy|\bconfus\w*",
                100,
            ),
            r"\bbulging\s+(?:\w+\s+)?(?:soft\s+spot|fontanelle?)|\b(?:soft\s+spot|fontanelle?)\s+"
            r"(?:\w+\s+){0,2}?(?:bulg\w*|swollen|raised|tense)",
        ),
        "NHS, meningitis symptoms; NICE CG102 (bacterial meningitis and meningococcal disease)",
    ),
    _rule(
        "pregnancy_emergency",
        "In pregnancy or after a birth, miscarriage or abortion: heavy bleeding, the baby not "
        "moving, severe pain or headache, vision changes, sudden swelling, a fit, waters "
        "breaking, shoulder-tip pain.",
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
                _PREGNANT,
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
        "young_infant_fever_or_unwell",
        "A baby under 3 months with a fever, or a baby or child who is floppy, hard to wake, not "
        "feeding, grunting or without wet nappies.",
        (
            _near(_YOUNG_BABY, _FEVER, 150),
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
        "gi_bleeding",
        "Vomiting blood or coffee-ground material, black tarry stools, heavy bleeding from the "
        "bottom.",
        (
            r"\b(?:vomit\w*|throw\w*\s+up|threw\s+up|puk\w*)\s+(?:up\s+)?(?:\w+\s+)?(?:blood|"
            r"coffee[\s-]+grounds?)|\b(?:blood|bloody)\s+(?:in\s+(?:my\s+|the\s+|his\s+|her\s+)?)?"
            r"vomit|\bcoffee[\s-]+ground",
            r"\b(?:black|dark)\s+(?:and\s+)?(?:tarry|sticky|tar-like)|\btarry\s+(?:\w+\s+)?"
            r"(?:stools?|poo\w*|feces|faeces|motions?)|\b(?:stools?|poo\w*|feces|faeces|motions?)"
            r"\s+(?:\w+\s+){0,3}?(?:like\s+tar|tarry|black\s+(?:and|as)\s+tar)",
            r"\b(?:bleed\w*|blood)\s+(?:\w+\s+){0,2}?(?:heavily|a\s+lot)\s+(?:\w+\s+){0,2}?"
            r"(?:bottom|rectum|anus|back\s+passage|behind)|\b(?:lots|a\s+lot|cups?)\s+of\s+blood\s+"
            r"(?:\w+\s+){0,3}?(?:stools?|toilet|poo\w*|bottom|rectum)",
        ),
        "NHS, when to call 999 (vomiting blood, black tarry poo); NICE CG141 (upper GI bleeding)",
    ),
    _rule(
        "coughing_blood",
        "Coughing up blood: to be seen the same day, an emergency if it is more than a little.",
        (
            r"\bcough\w*\s+(?:up\s+)?(?:\w+\s+)?(?:blood|bright\s+red|clots)|\b(?:blood|bloody)\s+"
            r"(?:in\s+(?:my\s+|the\s+)?)?(?:sputum|phlegm|spit|mucus)|\bspit\w*\s+(?:up\s+|out\s+)?"
            r"blood|\bh(?:a)?emoptysis",
        ),
        "NHS, coughing up blood (urgent GP appointment; 999 if heavy or breathless)",
        action="urgent",
    ),
    _rule(
        "thunderclap_headache",
        "A sudden, severe headache (the worst ever, reaching its peak within a minute).",
        (
            r"\bworst\s+headache\s+(?:\w+\s+){0,3}?(?:life|ever)",
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,3}}?(?:{_SEVERE}|explosive|blinding|splitting)\s+headache",
            rf"\b(?:{_SEVERE}|explosive|blinding|splitting)\s+headache\s+(?:\w+\s+){{0,4}}?"
            rf"(?:{_SUDDEN}|within\s+(?:a\s+)?(?:seconds|a\s+minute|minutes))",
            r"\bthunderclap",
            r"\b(?:headache|pain\s+in\s+(?:my|the)\s+head)\s+(?:\w+\s+){0,3}?like\s+(?:being\s+|i\s+"
            r"was\s+|i'?d\s+been\s+)?(?:hit|struck|kicked|smashed)",
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
        "new floaters with flashes, a chemical in the eye.",
        (
            rf"{_SUDDEN}\s+(?:\w+\s+){{0,4}}?(?:lost|loss\s+of|losing|{_CANT}\s+see|blind\w*|"
            r"black(?:ed)?\s+out|double\s+vision|vision\s+(?:loss|went|is\s+gone|has\s+gone))",
            r"\b(?:lost|loss\s+of|losing|lose)\s+(?:\w+\s+)?(?:vision|sight|eyesight)\s+"
            rf"(?:\w+\s+){{0,4}}?(?:{_SUDDEN}|overnight|this\s+morning|an\s+hour\s+ago|minutes\s+ago)",
            r"\b(?:went|gone|going|turned)\s+blind\b",
            r"\b(?:curtain|shadow|veil)\s+(?:\w+\s+){0,3}?(?:over|across|coming\s+(?:over|down|"
            r"across)|in\s+front\s+of)\s+(?:\w+\s+){0,2}?(?:vision|eyes?|sight)",
            r"\b(?:shower|burst|lots|loads)\s+of\s+(?:new\s+)?floaters|\bsudden\w*\s+(?:\w+\s+)?"
            r"floaters|\bflash\w*\s+(?:of\s+light\s+)?(?:and|with)\s+(?:\w+\s+)?floaters|"
            r"\bfloaters\s+(?:and|with)\s+(?:\w+\s+)?flash\w*",
            r"\b(?:chemical|bleach|acid|alkali|lime|cement|oven\s+cleaner|drain\s+cleaner)s?\s+"
            r"(?:\w+\s+){0,3}?(?:in|into)\s+(?:my|his|her|the|their)\s+eyes?",
        ),
        "NHS, loss of vision and flashes/floaters (A&E or 999); Royal College of Ophthalmologists",
    ),
    _rule(
        "testicular_torsion",
        "Sudden or severe pain or swelling in a testicle (possible torsion).",
        (
            rf"\b(?:{_SUDDEN}|{_SEVERE})\s+(?:\w+\s+){{0,3}}?(?:pain|ache|aching|swelling)\s+"
            r"(?:\w+\s+){0,3}?(?:in|on|of|around)\s+(?:\w+\s+){0,2}?(?:testic\w*|testes|testis|"
            r"balls|scrotum)\b",
            r"\b(?:testic\w*|testes|testis|balls|scrotum)\s+(?:\w+\s+){0,4}?(?:sudden\w*|"
            r"severe(?:ly)?|excruciating|unbearabl\w*|agoni[sz]ing|extreme(?:ly)?|terribl\w*|"
            r"really\s+bad(?:ly)?|very\s+bad(?:ly)?)\b",
            r"\btwisted\s+(?:\w+\s+)?(?:testicle|testis)|\btorsion\b",
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
        "drowsiness, a fit or passing out.",
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
        ),
        "NHS, diabetic ketoacidosis and low blood sugar (call 999 or go to A&E)",
    ),
    _rule(
        "severe_burn",
        "A large, deep, chemical or electrical burn, or any burn or scald on a baby or child.",
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
                r"\bvomit\w*|\bthrew\s+up|\bthrowing\s+up|\bbeen\s+sick|\bconfus\w*|\bdrowsy|"
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
        "Bleeding that will not stop, blood spurting, a deep wound, or a body part cut off.",
        (
            r"\b(?:bleed\w*|blood)\s+(?:\w+\s+){0,3}?(?:won'?t|will\s+not|doesn'?t|does\s+not|"
            r"isn'?t|can'?t|hasn'?t|has\s+not)\s+(?:stop\w*|slow\w*)",
            r"\b(?:spurting|pumping|pouring|squirting)\s+(?:out\s+)?(?:\w+\s+)?blood|\bblood\s+"
            r"(?:is\s+)?(?:spurting|pumping|pouring|squirting|gushing)",
            r"\b(?:deep|large|big|gaping)\s+(?:cut|wound|gash|laceration)\s+(?:\w+\s+){0,5}?"
            r"(?:bleed\w*|blood)",
            r"\b(?:cut|severed|chopped)\s+off\s+(?:\w+\s+)?(?:finger|toe|hand|thumb)",
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
