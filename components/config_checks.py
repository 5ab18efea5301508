"""How the models declare their settings, checks on single raw config values, and the collector that reports every
failed check at once.

Pure and generic. A model declares each setting on its dataclass field (`setting(...)`): the name it has in config
and its default, so the default lives in one place and the docs can be compared with it (`settings_of`). Each check
takes the setting's full name (so its message names it), the raw value as read from config, and the rule; it records
a problem and returns None when the value breaks the rule. The grant and stack models build their section parsers
from these.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The metadata keys a setting's dataclass field carries.
_SETTING = "setting"
_DEFAULT_TEXT = "default_text"


def setting(name: str, default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None,
            default_text: str | None = None) -> Any:
    """A dataclass field that is the config setting `name`; required unless it has a default (or a factory).
    `default_text` says in words what an unset setting means when that is not a plain value (derived defaults)."""
    metadata = {_SETTING: name, _DEFAULT_TEXT: default_text}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Setting:
    """One setting as a model declares it: its config name, the attribute it fills, and what an unset one means."""

    name: str
    attribute: str
    required: bool
    default: Any
    default_text: str | None


def settings_of(model: type) -> tuple[Setting, ...]:
    """The settings a model dataclass declares, in declaration order."""
    declared = []
    for model_field in dataclasses.fields(model):
        if _SETTING not in model_field.metadata:
            continue
        if model_field.default_factory is not dataclasses.MISSING:
            default = model_field.default_factory()
        else:
            default = None if model_field.default is dataclasses.MISSING else model_field.default
        declared.append(Setting(
            name=model_field.metadata[_SETTING],
            attribute=model_field.name,
            required=model_field.default is dataclasses.MISSING and model_field.default_factory is dataclasses.MISSING,
            default=default,
            default_text=model_field.metadata[_DEFAULT_TEXT],
        ))
    return tuple(declared)


class GrantConfigError(ValueError):
    """Raised with every problem found in the stack config, one per line, each naming its setting and rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "partner-access config is invalid; nothing was created:\n" + "\n".join(f"  - {p}" for p in problems)
        )


class Problems:
    """Collects problems so one preview reports every bad setting at once, not the first only."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, setting: str, rule: str) -> None:
        self.items.append(f"{setting}: {rule}")

    def count(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise GrantConfigError(self.items)


def is_whole_number(value: object) -> bool:
    # JSON config has no int/bool distinction in Python's eyes: True is an int, and must not pass as 1 second.
    return isinstance(value, int) and not isinstance(value, bool)


def text(problems: Problems, setting: str, value: object, pattern: re.Pattern[str], rule: str) -> str | None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.add(setting, f"{value!r} {rule}")
        return None
    return value


def boolean(problems: Problems, setting: str, value: object) -> bool | None:
    if not isinstance(value, bool):
        problems.add(setting, f"{value!r} must be true or false")
        return None
    return value


def whole_number(problems: Problems, setting: str, value: object, low: int, high: int | None, rule: str) -> int | None:
    """A whole number from `low` to `high` (no upper bound when None); `rule` completes "must be a whole number"."""
    if not is_whole_number(value) or value < low or (high is not None and value > high):  # type: ignore[operator]
        problems.add(setting, f"{value!r} must be a whole number {rule}")
        return None
    return value  # type: ignore[return-value]


def listed(problems: Problems, setting: str, value: object) -> list[object]:
    if not isinstance(value, list):
        problems.add(setting, f"must be a list, got {type(value).__name__}")
        return []
    return value


def mapping(problems: Problems, setting: str, value: object, shape: str) -> Mapping[str, object] | None:
    if not isinstance(value, Mapping):
        problems.add(setting, f"must be an object {shape}, got {type(value).__name__}")
        return None
    return value


def known_keys(problems: Problems, setting: str, raw: Mapping[str, object], known: Sequence[str], what: str) -> None:
    for unknown in sorted(set(raw) - set(known), key=str):
        problems.add(f"{setting}.{unknown}", f"is not {what}; known: {', '.join(known)}")


def unique_names(problems: Problems, setting: str, values: Sequence[str], what: str) -> None:
    # IAM names are case-insensitive: "Alice" and "alice" are one user.
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            problems.add(setting, f"{what} {value!r} is listed twice (IAM names ignore case)")
        seen.add(value.casefold())


def text_list(
    problems: Problems, setting: str, raw: object, pattern: re.Pattern[str], rule: str, what: str
) -> tuple[str, ...] | None:
    """Every item checked against `pattern`, and no item twice; None when any item fails."""
    before = problems.count()
    items = [text(problems, f"{setting}[{i}]", item, pattern, rule)
             for i, item in enumerate(listed(problems, setting, raw))]
    valid = [item for item in items if item is not None]
    unique_names(problems, setting, valid, what)
    return tuple(valid) if problems.count() == before else None
