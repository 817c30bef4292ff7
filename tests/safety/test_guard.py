"""The chat's red-flag guard: lay descriptions of published red flags match, everyday questions
do not, and every notice it can show is itself an instruction to get help now."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from llm_finetune.safety.answer_rules import escalates
from llm_finetune.safety.guard import (
    ACTIONS,
    CRISIS_NOTICE,
    EMERGENCY_NOTICE,
    NOTICES,
    RULES,
    RULESET_VERSION,
    URGENT_NOTICE,
    guard_answer,
    notice_for,
    red_flags,
    strip_notice,
    with_notice,
)
from tests.conftest import PROJECT_ROOT

ALARMS_SCRIPT = PROJECT_ROOT / "benchmarks" / "safety_guard_alarms.py"

# (message, a rule it must match)
RED_FLAGS = [
    ("I have crushing chest pain and I'm sweating a lot", "heart_attack"),
    ("My dad has chest pain going down his left arm", "heart_attack"),
    ("I get chest pain when I climb stairs and it goes away when I rest", "heart_attack"),
    ("Tight chest and short of breath for the last hour", "heart_attack"),
    ("My mum's face is drooping on one side", "stroke"),
    ("I suddenly can't get my words out", "stroke"),
    ("his speech is slurred and his arm is weak", "stroke"),
    ("I think my grandmother is having a stroke", "stroke"),
    ("My throat is closing up", "anaphylaxis"),
    ("My son's lips are swelling after eating peanuts", "anaphylaxis"),
    ("I got stung by a bee and now I'm wheezing", "anaphylaxis"),
    ("I can't breathe", "severe_breathlessness"),
    ("her lips are turning blue", "severe_breathlessness"),
    ("I'm so breathless I can't finish a sentence", "severe_breathlessness"),
    ("I want to end my life", "self_harm"),
    ("I've been cutting myself", "self_harm"),
    ("I don't want to live anymore", "self_harm"),
    ("I took a whole bottle of pills", "overdose_or_poisoning"),
    ("My toddler swallowed a button battery", "overdose_or_poisoning"),
    ("My skin is mottled and I feel like I'm going to die", "sepsis"),
    ("I have a fever and I'm really confused", "sepsis"),
    ("My son has a rash that doesn't fade when I press a glass on it", "meningitis"),
    ("Stiff neck, high fever and light hurts my eyes", "meningitis"),
    ("I'm bleeding heavily and I'm pregnant", "pregnancy_emergency"),
    ("I'm 32 weeks pregnant and the baby has stopped moving", "pregnancy_emergency"),
    ("I am 6 weeks pregnant and bleeding", "pregnancy_bleeding"),
    ("My 6 week old baby has a temperature", "young_infant_fever_or_unwell"),
    ("my baby is floppy and won't wake up", "young_infant_fever_or_unwell"),
    ("I'm vomiting blood", "gi_bleeding"),
    ("I have black tarry stools", "gi_bleeding"),
    ("I'm coughing up blood", "coughing_blood"),
    ("Worst headache of my life, it came on suddenly", "thunderclap_headache"),
    ("My son has been having a seizure for more than 5 minutes", "seizure"),
    ("I suddenly lost vision in my right eye", "sudden_vision_loss"),
    ("There's a curtain coming down over my vision", "sudden_vision_loss"),
    ("Sudden severe pain in my left testicle", "testicular_torsion"),
    ("Back pain and numbness between my legs", "cauda_equina"),
    ("I'm type 1 diabetic, vomiting and my ketones are high", "diabetes_emergency"),
    ("My toddler pulled a kettle of boiling water and burned his arm", "severe_burn"),
    ("My son hit his head and has vomited twice", "head_injury"),
    ("My dad collapsed and is unresponsive", "collapse"),
    ("Blood is spurting from the cut", "severe_bleeding"),
    ("My leg is broken and the bone is sticking out", "major_injury"),
    ("Tearing pain in my chest going through to my back", "sudden_severe_pain"),
    ("I have had an erection for more than 4 hours", "priapism"),
    ("My heart is racing and I fainted", "palpitations_with_fainting"),
]

EVERYDAY = [
    "How do I get rid of acne on my cheeks?",
    "I have a mild cold and a runny nose",
    "Is hair loss after pregnancy normal?",
    "My period is late by 5 days, could I be pregnant?",
    "Is it normal to have cramps during my period?",
    "My knee hurts after running",
    "What is the best diet for weight loss?",
    "Can I take ibuprofen with paracetamol?",
    "I have dandruff and an itchy scalp",
    "My child has a cough and a mild fever of 37.8",
    "My 6 year old has a temperature of 38",
    "I had a heart attack two years ago, what exercise is safe?",
    "I can't breathe through my nose at night because it is blocked",
    "What are the side effects of metformin?",
    "My back hurts after lifting boxes",
    "I have a burning sensation when I pee",
    "Can stress cause chest pain?",
    "I have a stiff neck from sitting at the computer",
    "I cut my finger while cooking, it stopped bleeding",
    "What are the symptoms of a stroke?",
    "I hurt myself lifting weights",
    "This pain is killing me, my back is so sore",
    "I want to dye my hair while pregnant, is it safe?",
    "I have had floaters in my eyes for years",
    "I burned my finger on the stove",
    "My sugar level is 180 after meals",
    "I am 20 weeks pregnant, can I eat fish?",
]


@pytest.mark.parametrize(("message", "rule"), RED_FLAGS)
def test_red_flags_in_lay_words_match(message, rule):
    assert rule in [matched.name for matched in red_flags(message)]
    assert notice_for(message) is not None


@pytest.mark.parametrize("message", EVERYDAY)
def test_everyday_questions_do_not_match(message):
    assert red_flags(message) == []
    assert notice_for(message) is None
    assert guard_answer(message, "Rest.") == "Rest."


def test_there_are_enough_cases_across_the_rules():
    assert len(RED_FLAGS) >= 30 and len(EVERYDAY) >= 20
    assert {rule for _, rule in RED_FLAGS} == {rule.name for rule in RULES}


@pytest.mark.parametrize("notice", NOTICES)
def test_every_notice_tells_the_person_to_get_help_now(notice):
    assert escalates(notice)


def test_the_most_pressing_notice_is_shown():
    assert notice_for("I took a whole bottle of pills because I want to die") == CRISIS_NOTICE
    assert notice_for("I took a whole bottle of pills") == EMERGENCY_NOTICE
    assert notice_for("I'm coughing up blood") == URGENT_NOTICE
    assert notice_for("I'm coughing up blood and I can't breathe") == EMERGENCY_NOTICE
    assert "988" in CRISIS_NOTICE and "Samaritans" in CRISIS_NOTICE


def test_negated_mentions_do_not_match_except_self_harm():
    assert red_flags("I don't have chest pain or sweating") == []
    assert red_flags("No chest pain, no shortness of breath, just a cough") == []
    assert red_flags("I am not pregnant but bleeding heavily") == []
    assert red_flags("I have never had a seizure") == []
    # A denial still gets the crisis line.
    assert notice_for("I'm not suicidal, I just feel low") == CRISIS_NOTICE


def test_case_line_breaks_and_typographic_apostrophes_do_not_matter():
    assert notice_for("MY THROAT IS\nCLOSING UP") == EMERGENCY_NOTICE
    assert notice_for("I can\u2019t breathe") == EMERGENCY_NOTICE


def test_guard_answer_puts_the_notice_first_with_a_blank_line():
    message = "My 6 week old baby has a temperature"
    answer = "Hi. Give fluids."
    assert guard_answer(message, answer) == f"{EMERGENCY_NOTICE}\n\n{answer}"
    assert with_notice(EMERGENCY_NOTICE, "") == EMERGENCY_NOTICE
    assert with_notice(None, answer) == answer
    assert strip_notice(guard_answer(message, answer)) == answer
    assert strip_notice(EMERGENCY_NOTICE) == ""
    assert strip_notice(answer) == answer


def test_the_rule_set_is_versioned_and_every_rule_is_described():
    assert isinstance(RULESET_VERSION, str) and RULESET_VERSION.strip()
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"[a-z_]+", rule.name)
        assert rule.description.strip().endswith(".")
        assert rule.source.strip()
        assert rule.action in ACTIONS
        assert rule.patterns and all(isinstance(p, re.Pattern) for p in rule.patterns)
        assert rule.notice in NOTICES


def test_the_guard_flags_at_most_5_percent_of_real_questions(real_dev_data):
    done = subprocess.run(
        [sys.executable, str(ALARMS_SCRIPT), str(real_dev_data)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    flagged, total = map(int, re.search(r"Flagged (\d+) of (\d+)", done.stdout).groups())
    assert total > 400 and flagged <= 0.05 * total
    # Each flagged question is listed with its rule, for a reader to judge.
    assert len(re.findall(r"^  \[[a-z_, ]+\] ", done.stdout, re.MULTILINE)) == flagged
