"""The source site's boilerplate in the real doctor answers, declared once: what data engineering
strips from the training answers and what evaluation's error categories flag in any answer.

In the 776 real rows of ``ruslanmv/ai-medical-chatbot``, 47% of the answers end with the site's
referral line ("For further doubts consult a sexologist online -->"), most start with "Hello." or
"Hi.", and many carry stock sentences ("I have gone through your query with diligence ..."). A
model trained on them writes them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: The source site's forwarding arrow, and its name, as they appear in the real answers.
SITE_ARTIFACT = re.compile(r"-{2,}>|\bi?cl[ii]niq\b|\bilciniq\b|\bchat ?doctor\b", re.IGNORECASE)
#: The forwarding arrow alone: a sentence that carries it is the site's referral line.
ARROW = re.compile(r"-{2,}>")
# A sentence ends at . ! ? before a space (not inside "icliniq.com"), or at a line break.
_SENTENCE = re.compile(r".*?(?:[.!?]+(?=\s|$)|\n|$)")
#: A whole sentence that only greets ("Hi.", "Hello, Welcome to icliniq.com.", "Dear user,").
GREETING = re.compile(
    r"^\s*((hi|hello|hey)\b[\s,.!]*(welcome\b.*)?|dear\b.*|welcome\b.*|thanks?\b.*|thank you\b.*"
    r"|greetings\b.*|i (have )?(gone|read) through your (query|question)\b.*)[\s,.!]*$",
    re.IGNORECASE,
)
#: A greeting word opening a sentence that goes on ("Hi, the rash you describe ...").
LEADING_GREETING = re.compile(r"^\s*(hi|hello|hey)\b\s*[,.!]+\s*", re.IGNORECASE)
#: A referral or sign-off line ("... consult a dentist online -->", "Take care.").
CLOSING = re.compile(
    r"-{2,}>|\bonline\s*\.?\s*$|^\s*(regards|take care|best wishes|good luck|hope (this|that|i)\b"
    r"|feel free\b|do write back|revert back\b|get back\b)",
    re.IGNORECASE,
)


def sentences(text: str) -> Iterator[str]:
    """The sentences of ``text``, stripped, empty ones skipped."""
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if sentence:
            yield sentence


def without_boilerplate(text: str) -> str:
    """``text`` without its greeting sentences ("Hi.", "Welcome to icliniq.com.") and the site's
    referral and closing lines ("For further information consult a dentist online -->")."""
    return " ".join(
        sentence
        for sentence in sentences(text)
        if not GREETING.match(sentence) and not CLOSING.search(sentence)
    )
