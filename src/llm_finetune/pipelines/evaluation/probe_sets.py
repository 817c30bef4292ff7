"""The hand-written safety probe sets, read and checked: red-flag questions whose safe answer sends
the person to care (``data/01_raw/safety/red_flag_questions.yml``) and question pairs that differ
only in the patient's sex, age or ethnicity (``data/01_raw/safety/bias_question_pairs.yml``).

Both functions take the mapping a Kedro ``yaml.YAMLDataset`` loads and return ``(version, items)``
as typed, frozen records; any problem is a :class:`ValueError` naming the set, the item (1-based
number and id) and what is wrong. They do no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: What a safe answer to a red-flag question must recommend: ``emergency`` = call an ambulance or
#: go to the emergency department now; ``urgent`` = be seen by a doctor the same day.
EXPECTED_ACTIONS = ("emergency", "urgent")

#: What the two questions of a bias pair differ in.
BIAS_ATTRIBUTES = ("sex", "age", "ethnicity")

_KEBAB_CASE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class RedFlagQuestion:
    """One red-flag probe question.

    Attributes:
        id: Unique kebab-case name of the question.
        topic: Short name of what it is about (``"stroke"``, ``"sepsis"``).
        expected_action: One of :data:`EXPECTED_ACTIONS`.
        question: The question as a person would ask it.
    """

    id: str
    topic: str
    expected_action: str
    question: str


@dataclass(frozen=True)
class BiasPair:
    """Two questions identical but for the words stating the patient's sex, age or ethnicity.

    Attributes:
        id: Unique kebab-case name of the pair.
        attribute: One of :data:`BIAS_ATTRIBUTES`.
        variants: The words that differ, in the order of ``questions`` (``("man", "woman")``).
        questions: The two questions; ``questions[i]`` contains ``variants[i]``.
    """

    id: str
    attribute: str
    variants: tuple[str, str]
    questions: tuple[str, str]


def red_flag_questions(
    raw: Mapping[str, Any], source: str = "red_flag_questions"
) -> tuple[int, list[RedFlagQuestion]]:
    """The version and questions of a red-flag probe set.

    Args:
        raw: The loaded YAML: ``version`` and ``questions``, a list of mappings with ``id``,
            ``topic``, ``expected_action`` and ``question``.
        source: Name of the set in error messages.

    Returns:
        ``(version, questions)``, the questions in file order.

    Raises:
        ValueError: The set is not a mapping, lacks ``version`` or ``questions``, has no questions,
            or a question lacks a field, has an unknown ``expected_action``, a non-kebab-case or
            repeated id, or repeats another question's text.
    """
    version, items = _version_and_items(raw, source, "questions")
    questions: list[RedFlagQuestion] = []
    ids: dict[str, int] = {}
    texts: dict[str, tuple[int, str]] = {}
    for number, item in enumerate(items, start=1):
        where = _where(source, "question", number, item)
        fields = {
            name: _text(item, name, where)
            for name in ("id", "topic", "expected_action", "question")
        }
        _check_id(fields["id"], number, where, ids, "question")
        if fields["expected_action"] not in EXPECTED_ACTIONS:
            raise ValueError(
                f"{where} has the unknown expected_action {fields['expected_action']!r}; "
                f"allowed: {', '.join(EXPECTED_ACTIONS)}"
            )
        _check_new_text(fields["question"], number, fields["id"], where, texts, "question")
        questions.append(RedFlagQuestion(**fields))
    return version, questions


def bias_pairs(
    raw: Mapping[str, Any], source: str = "bias_question_pairs"
) -> tuple[int, list[BiasPair]]:
    """The version and pairs of a bias probe set.

    Args:
        raw: The loaded YAML: ``version`` and ``pairs``, a list of mappings with ``id``,
            ``attribute``, ``variants`` (two strings) and ``questions`` (two strings).
        source: Name of the set in error messages.

    Returns:
        ``(version, pairs)``, the pairs in file order.

    Raises:
        ValueError: The set is not a mapping, lacks ``version`` or ``pairs``, has no pairs, or a
            pair lacks a field, has an unknown ``attribute``, a non-kebab-case or repeated id, not
            exactly two distinct variants or two distinct questions, a question without its own
            variant (whole words, any case), or a question already in another pair.
    """
    version, items = _version_and_items(raw, source, "pairs")
    pairs: list[BiasPair] = []
    ids: dict[str, int] = {}
    texts: dict[str, tuple[int, str]] = {}
    for number, item in enumerate(items, start=1):
        where = _where(source, "pair", number, item)
        pair_id = _text(item, "id", where)
        attribute = _text(item, "attribute", where)
        _check_id(pair_id, number, where, ids, "pair")
        if attribute not in BIAS_ATTRIBUTES:
            raise ValueError(
                f"{where} has the unknown attribute {attribute!r}; "
                f"allowed: {', '.join(BIAS_ATTRIBUTES)}"
            )
        variants = _two_texts(item, "variants", where)
        questions = _two_texts(item, "questions", where)
        if _normal(variants[0]) == _normal(variants[1]):
            raise ValueError(f"{where} has two equal variants {variants[0]!r}")
        if _normal(questions[0]) == _normal(questions[1]):
            raise ValueError(f"{where} has two equal questions; they must differ in the variant")
        for index, (variant, question) in enumerate(zip(variants, questions, strict=True)):
            if not _contains_words(question, variant):
                raise ValueError(
                    f"{where} question {index + 1} does not contain its variant {variant!r}: "
                    f"{question!r}"
                )
        for question in questions:
            _check_new_text(question, number, pair_id, where, texts, "pair")
        pairs.append(BiasPair(pair_id, attribute, variants, questions))
    return version, pairs


def _version_and_items(raw: Any, source: str, key: str) -> tuple[int, list[Any]]:
    """``raw``'s version and its non-empty list under ``key``."""
    if not isinstance(raw, Mapping):
        raise ValueError(
            f"{source} must be a mapping with 'version' and '{key}', "
            f"not {type(raw).__name__}: {raw!r:.80}"
        )
    missing = [name for name in ("version", key) if name not in raw]
    if missing:
        raise ValueError(f"{source} lacks {' and '.join(missing)}; it has {sorted(map(str, raw))}")
    version = raw["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{source} version must be a positive integer, not {version!r}")
    items = raw[key]
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ValueError(f"{source} {key} must be a list, not {type(items).__name__}")
    if not items:
        raise ValueError(f"{source} {key} is empty")
    return version, list(items)


def _where(source: str, kind: str, number: int, item: Any) -> str:
    """``"<source> <kind> <number> ('<id>')"`` (without the id where it has none), for an item that
    must be a mapping."""
    item_id = item.get("id") if isinstance(item, Mapping) else None
    named = f" ({item_id!r})" if isinstance(item_id, str) and item_id.strip() else ""
    where = f"{source} {kind} {number}{named}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be a mapping, not {type(item).__name__}: {item!r:.80}")
    return where


def _text(item: Mapping[str, Any], name: str, where: str) -> str:
    """``item[name]``, a non-empty string (stripped)."""
    value = item.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{where} lacks {name}")
    if not isinstance(value, str):
        raise ValueError(f"{where} has a non-string {name}: {type(value).__name__} {value!r:.80}")
    return value.strip()


def _two_texts(item: Mapping[str, Any], name: str, where: str) -> tuple[str, str]:
    """``item[name]``, a list of exactly two non-empty strings (stripped)."""
    values = item.get(name)
    if values is None or (isinstance(values, Sequence) and not values):
        raise ValueError(f"{where} lacks {name}")
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ValueError(f"{where} {name} must be a list of two strings, not {values!r:.80}")
    if len(values) != 2:
        raise ValueError(f"{where} has {len(values)} {name}; it needs exactly 2")
    for index, value in enumerate(values, start=1):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{where} {name} {index} is empty")
        if not isinstance(value, str):
            raise ValueError(
                f"{where} {name} {index} is not a string: {type(value).__name__} {value!r:.80}"
            )
    return values[0].strip(), values[1].strip()


def _check_id(item_id: str, number: int, where: str, seen: dict[str, int], kind: str) -> None:
    """Refuse an id that is not kebab-case or that an earlier item has; record it."""
    if not _KEBAB_CASE.fullmatch(item_id):
        raise ValueError(f"{where} id is not kebab-case (lower-case words joined by '-')")
    if item_id in seen:
        raise ValueError(f"{where} repeats the id of {kind} {seen[item_id]}")
    seen[item_id] = number


def _check_new_text(
    text: str,
    number: int,
    item_id: str,
    where: str,
    seen: dict[str, tuple[int, str]],
    kind: str,
) -> None:
    """Refuse a question an earlier item already asks (whitespace and case aside); record it."""
    key = _normal(text)
    if key in seen:
        earlier, earlier_id = seen[key]
        raise ValueError(f"{where} repeats the question of {kind} {earlier} ({earlier_id!r})")
    seen[key] = (number, item_id)


def _normal(text: str) -> str:
    """``text`` with runs of whitespace as one space, case folded."""
    return " ".join(text.split()).casefold()


def _contains_words(text: str, words: str) -> bool:
    """Whether ``words`` occur in ``text`` as whole words (any case, any whitespace between)."""
    pattern = r"\s+".join(re.escape(word) for word in words.split())
    return re.search(rf"(?<!\w){pattern}(?!\w)", text, flags=re.IGNORECASE) is not None
