"""What every settings class shares: built from a parameters block (:meth:`Settings.from_params`),
checked when built, written back in the parameters' layout (:meth:`Settings.to_dict`).

Error messages name the full key and the pipeline that reads it::

    training.lora.rnk: unknown key (training pipeline; known: enabled, r, alpha, ...)
    training.lora.r must be a positive integer, got 0 (training pipeline)

Pure Python: importing this package never imports torch or transformers.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, TypeVar

S = TypeVar("S", bound="Settings")

#: The class and dotted key (``where``) of the block ``from_params`` is building, so its checks
#: name the key where the block was found; otherwise a settings class names its own ``SECTION``.
_BUILDING: ContextVar[tuple[type, str] | None] = ContextVar("settings_building", default=None)


class SettingsError(ValueError):
    """An unusable setting; the message names the full key and the pipeline that reads it."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a field accepts, as checks run in order; the first that fails names the expectation
    (``training.lora.r must be a positive integer, got 0``)."""

    checks: tuple[tuple[Callable[[Any], bool], str], ...]


def rule(*checks: tuple[Callable[[Any], bool], str]) -> Rule:
    return Rule(tuple(checks))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


POSITIVE_INT = rule((lambda v: is_int(v) and v >= 1, "a positive integer"))
POSITIVE_INT_OR_NULL = rule(
    (lambda v: v is None or (is_int(v) and v >= 1), "a positive integer or null")
)
NON_NEGATIVE_INT = rule((lambda v: is_int(v) and v >= 0, "an integer >= 0"))
NON_NEGATIVE_INT_OR_NULL = rule(
    (lambda v: v is None or (is_int(v) and v >= 0), "an integer >= 0 or null")
)
POSITIVE_NUMBER = rule((is_number, "a number"), (lambda v: v > 0, "a number > 0"))
NON_NEGATIVE_NUMBER = rule((is_number, "a number"), (lambda v: v >= 0, "a number >= 0"))
FRACTION = rule((is_number, "a number"), (lambda v: 0 < v < 1, "between 0 and 1"))


class Settings:
    """Base of the settings dataclasses (frozen, every field with a default and a ``#:`` doc).

    Subclasses set ``SECTION`` (the block's dotted key in the parameters, e.g. ``training.lora``)
    and ``PIPELINE`` (the pipeline that reads it, named in error messages), and may set ``RULES``
    (field -> :class:`Rule`); a field without a rule is checked against its annotation.
    """

    SECTION: ClassVar[str]
    PIPELINE: ClassVar[str]
    RULES: ClassVar[Mapping[str, Rule]] = {}

    @classmethod
    def from_params(
        cls: type[S], params: Mapping[str, Any] | S | None, where: str | None = None
    ) -> S:
        """Settings from a parameters block (e.g. ``params:training``), checked.

        ``where``: the block's dotted key, named in errors (default: ``SECTION``). None or an
        empty block gives the defaults; a settings object is returned as it is. Unknown keys and
        unusable values raise :class:`SettingsError` (a ``ValueError``) naming the full key.
        """
        if isinstance(params, cls):
            return params
        where = where or cls.SECTION
        params = {} if params is None else params
        if not isinstance(params, Mapping):
            cls._fail(f"{where} must be a mapping of settings, got {params!r}")
        params = cls._split_unknown(dict(params), where)
        missing = [name for name in cls.required_keys() if name not in params]
        if missing:
            cls._fail(f"{where}: missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        nested = cls._nested_fields()
        for name, settings_class in nested.items():
            if name in params:
                params[name] = settings_class.from_params(params[name], where=f"{where}.{name}")
        with _building(cls, where):
            return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        """The settings in the parameters' layout (plain dicts and lists, as YAML has them)."""
        result: dict[str, Any] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if isinstance(value, Settings):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            result[item.name] = value
        return result

    @classmethod
    def known_keys(cls) -> list[str]:
        """The keys this block accepts, in declaration order."""
        return [item.name for item in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def required_keys(cls) -> list[str]:
        """The keys without a default (an entry of a mapping, e.g. a GPU's ``name``)."""
        return [
            item.name
            for item in dataclasses.fields(cls)  # type: ignore[arg-type]
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        ]

    @classmethod
    def _split_unknown(cls, params: dict[str, Any], where: str) -> dict[str, Any]:
        """``params`` without unknown keys; here every unknown key fails (see TrainerSettings)."""
        known = cls.known_keys()
        unknown = [f"{where}.{key}" for key in params if key not in known]
        if unknown:
            cls._fail(
                f"{', '.join(unknown)}: unknown key{'s' if len(unknown) > 1 else ''} "
                f"({cls.PIPELINE} pipeline; known: {', '.join(known)})",
                with_pipeline=False,
            )
        return params

    @classmethod
    def _nested_fields(cls) -> dict[str, type[Settings]]:
        hints = _type_hints(cls)
        return {
            item.name: hints[item.name]
            for item in dataclasses.fields(cls)  # type: ignore[arg-type]
            if isinstance(hints[item.name], type) and issubclass(hints[item.name], Settings)
        }

    def __post_init__(self) -> None:
        hints = _type_hints(type(self))
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            checks = self.RULES.get(item.name)
            if checks is None:
                if not matches(value, hints[item.name]):
                    self.fail(item.name, f"must be {describe(hints[item.name])}", value)
            else:
                for check, expected in checks.checks:
                    if not check(value):
                        self.fail(item.name, f"must be {expected}", value)
            if isinstance(value, list):  # a YAML list becomes a tuple (immutable)
                object.__setattr__(self, item.name, tuple(value))
        self.check()

    def check(self) -> None:
        """Rules across fields (subclasses); field types and ``RULES`` are checked before."""

    def key(self, name: str = "") -> str:
        """The full dotted key of field ``name`` (of the block itself when empty)."""
        building = _BUILDING.get()
        section = building[1] if building and building[0] is type(self) else self.SECTION
        return f"{section}.{name}" if name else section

    def fail(self, name: str, problem: str, value: Any = dataclasses.MISSING) -> typing.NoReturn:
        """Raise naming ``key(name)``: ``<key> <problem>, got <value> (<pipeline> pipeline)``."""
        got = "" if value is dataclasses.MISSING else f", got {value!r}"
        self._fail(f"{self.key(name)} {problem}{got}")

    @classmethod
    def _fail(cls, message: str, with_pipeline: bool = True) -> typing.NoReturn:
        raise SettingsError(f"{message} ({cls.PIPELINE} pipeline)" if with_pipeline else message)


@contextmanager
def _building(settings_class: type, where: str) -> Iterator[None]:
    token = _BUILDING.set((settings_class, where))
    try:
        yield
    finally:
        _BUILDING.reset(token)


@functools.cache
def _type_hints(settings_class: type) -> dict[str, Any]:
    """The fields' annotations, evaluated (they are strings under ``from __future__``)."""
    return typing.get_type_hints(settings_class)


#: The types :func:`matches` checks by value, never by ``isinstance``.
_PLAIN = (bool, int, float, str, dict, tuple, list, type(None))


def _options(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def matches(value: Any, annotation: Any) -> bool:
    """Whether a parameter value (as YAML gives it) fits ``annotation``: a union of the plain
    types, ``tuple[X, ...]`` / ``list[X]``, mappings, ``Literal``, enums (a member or its value)
    and settings classes; any other class by ``isinstance``."""
    for option in _options(annotation):
        origin = typing.get_origin(option)
        if option is Any:
            return True
        if option is type(None) and value is None:
            return True
        if option is bool and isinstance(value, bool):
            return True
        if option is int and is_int(value):
            return True
        if option is float and is_number(value):
            return True
        if option is str and isinstance(value, str):
            return True
        if origin in (tuple, list) and isinstance(value, list | tuple):
            item_type = typing.get_args(option)[0]
            if all(matches(item, item_type) for item in value):
                return True
        if (option in (dict, Mapping) or origin in (dict, Mapping)) and isinstance(value, Mapping):
            return True
        if origin is typing.Literal and value in typing.get_args(option):
            return True
        if isinstance(option, type) and issubclass(option, enum.Enum):
            if isinstance(value, option) or any(value == member.value for member in option):
                return True
        elif isinstance(option, type) and origin is None and option not in _PLAIN:
            if isinstance(value, option):
                return True
    return False


def describe(annotation: Any) -> str:
    """``annotation`` in words, as error messages say it (``an integer or null``)."""
    words = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        type(None): "null",
        dict: "a mapping",
    }
    described = []
    for option in _options(annotation):
        origin = typing.get_origin(option)
        if origin in (tuple, list):
            item_type = typing.get_args(option)[0]
            described.append(f"a list of {describe(item_type).split(' ', 1)[-1]}s")
        elif origin in (dict, Mapping):
            described.append("a mapping")
        elif origin is typing.Literal:
            described.append(" or ".join(repr(item) for item in typing.get_args(option)))
        elif isinstance(option, type) and issubclass(option, enum.Enum):
            described.append(f"one of {', '.join(str(member.value) for member in option)}")
        else:
            described.append(words.get(option, getattr(option, "__name__", str(option))))
    return " or ".join(described)
