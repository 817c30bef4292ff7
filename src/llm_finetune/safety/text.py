"""Text handling shared by the answer rules and the red-flag guard: one normal form, and one
negation test, so that both read "no need to call 911" and "I don't have chest pain" alike.

Rules match the normal form (lower case, plain apostrophes and dashes, whitespace collapsed, line
breaks included), so "Call\\n911" and "Call 911" are the same text. A match is negated when, in
its own clause, a negation word comes just before it with only "filler" words in between
("there is *no need to* see a doctor urgently", "I *don't have any* chest pain"); any other word
in between ends the search ("if it does *not* improve, go to the ER" stays an instruction).
"""

from __future__ import annotations

import re

_PLAIN = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u03bc": "\u00b5",  # Greek mu -> micro sign, one spelling of "µg"
        "\u00a0": " ",
    }
)
#: Where a clause ends: sentence punctuation, a comma, a semicolon or a colon, before a space.
_CLAUSE_END = re.compile(r"[.!?;:,]+(?=\s|$)|\s-+\s|\s\u2192\s")
_WORD = re.compile(r"[a-z']+")
#: Words that negate what follows them.
NEGATIONS = frozenset(
    {
        "no",
        "not",
        "never",
        "nor",
        "without",
        "unnecessary",
        "needn't",
        "don't",
        "dont",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "haven't",
        "hasn't",
    }
)
#: Words that may stand between a negation and what it negates.
_FILLER = frozenset(
    """
    need needs needed to have has had having go going visit visiting head rush call calling see
    seeing seek seeking get getting the a an your you i he she they we it it's is are am was be
    been do does did really necessarily necessary required any for straight immediately right
    away think believe experience experiencing notice noticed sign signs of symptoms symptom
    there there's that this at point stage yet just currently also even suffer suffering from
    my his her their feel feeling
    """.split()
)


def normalise(text: str) -> str:
    """Lower case, typographic apostrophes and dashes made plain, all whitespace one space."""
    return " ".join(text.translate(_PLAIN).lower().split())


def clause_before(text: str, position: int) -> str:
    """The part of ``text``'s clause that comes before ``position``."""
    return _CLAUSE_END.split(text[:position])[-1]


def clause_after(text: str, position: int) -> str:
    """The part of ``text``'s clause that comes after ``position``."""
    return _CLAUSE_END.split(text[position:], maxsplit=1)[0]


def negated(text: str, start: int, reach: int = 8) -> bool:
    """Whether the words just before ``start`` in its clause negate what starts there.

    Walks back at most ``reach`` words: a negation word negates; a filler word goes on; any other
    word stops the walk.
    """
    words = _WORD.findall(clause_before(text, start))
    for word in reversed(words[-reach:]):
        if word in NEGATIONS:
            return True
        if word not in _FILLER:
            return False
    return False
