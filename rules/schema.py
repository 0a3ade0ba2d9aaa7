"""The shape of a rule list: pydantic models of `[[rules]]`, `when` and `then`, and the checks between keys.

`validate_rules` turns the parsed TOML tables into `RuleSpec`s, typed and checked, or raises
`RuleError` listing every problem, each named `rules[i] ("name").section.key: what is wrong` and
saying what is accepted. Unknown keys suggest the closest known one (or the section it belongs
in). Nothing here builds the fast callables: `rules.compiler` does that from valid specs only.

The models say which keys exist and what each accepts; every value type has one small parser
(`_comparison`, `_cap`, `_eta`, ...) that gives the shop owner's error text. What depends on more
than one key (an ETA condition without `then.eta`, a `{limit}` without a cap, ...) is checked
after a rule's shape is valid (`_consistency`), so one mistake is reported once.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, PrivateAttr, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from stockstatus.rules.demand import DEFAULT_WINDOW_DAYS
from stockstatus.rules.errors import RuleError
from stockstatus.rules.model import Status
from stockstatus.rules.template import ETA_FIELDS, MessageTemplate, parse_template

# ---------------------------------------------------------------------------------------------
# Values: what a key holds once it is valid


@dataclass(frozen=True, slots=True)
class Comparison:
    """`"<= 0"`: an operator and a number."""

    op: str
    """One of <, <=, ==, !=, >=, >."""
    limit: float
    """A whole number (int) unless the key accepts decimals."""


@dataclass(frozen=True, slots=True)
class Windowed:
    """A demand comparison over the last `window_days` days (`velocity`, `days_of_cover`)."""

    window_days: int
    comparison: Comparison


@dataclass(frozen=True, slots=True)
class CapSpec:
    """`then.cap`: the most units that may wait, fixed (`max`) and/or what `incoming` supply covers."""

    max: int | None
    incoming: bool


DateWhen = Literal["future", "past", "none", "any"]
ETA_SOURCE_NAMES = ("release_date", "restock_date", "lead_time", "supply")
"""Named ETA sources (`then.eta`); a date "YYYY-MM-DD" is the other kind."""
SUPPLY_DERIVED = frozenset({"restock_date", "lead_time", "supply"})
"""Sources that date the goods' arrival; handling days are added to these only."""


# ---------------------------------------------------------------------------------------------
# Parsers of one value each: the text of the error is the shop owner's


class _Invalid(Exception):
    """A parser's complaint about one key's value: one problem, or several (a message template's)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _show(value: object) -> str:
    """A value as the shop owner wrote it in TOML."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)


def whole_number(value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{_show(value)} is not a whole number")
    if value < minimum:
        raise _Invalid(f"{value} is below {minimum}")
    return value


def _true_or_false(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{_show(value)} is not true or false")
    return value


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise _Invalid(f"{_show(value)} is not a list; write [{_show(value)}]")
    if not isinstance(value, list | tuple):
        raise _Invalid(f"{_show(value)} is not a list of names")
    if not value:
        raise _Invalid("the list is empty, so the condition could never hold")
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise _Invalid(f"{_show(bad[0])} is not a name (the list must hold non-empty strings)")
    return tuple(value)


_WHOLE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([+-]?\d+)\s*$")
_DECIMAL = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$")
_OPERATORS_TEXT = "(operators: <, <=, ==, !=, >=, >)"


def _comparison(value: object, *, example: str, decimals: bool = False) -> Comparison:
    match = (_DECIMAL if decimals else _WHOLE).match(value) if isinstance(value, str) else None
    if match is None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise _Invalid(f'{_show(value)} is not a comparison; write e.g. "{example.split()[0]} {value}"')
        raise _Invalid(f'{_show(value)} is not a comparison like "{example}" {_OPERATORS_TEXT}')
    number = match.group(2)
    limit = float(number) if decimals and not re.fullmatch(r"[+-]?\d+", number) else int(number)
    return Comparison(match.group(1), limit)


def _available(value: object) -> Comparison:
    if isinstance(value, bool | int):
        raise _Invalid(f'{_show(value)} is not a comparison; write e.g. "== {value}" or "<= {value}"')
    return _comparison(value, example="<= 0")


def _count(value: object) -> Comparison:
    return _comparison(value, example="> 0")


def _windowed(example: str) -> Callable[[object], Windowed]:
    """`"> 2"` (the default window) or `{ window_days = 7, is = "> 2" }`."""
    written = f'{{ window_days = 28, is = "{example}" }}'

    def parse(value: object) -> Windowed:
        window = DEFAULT_WINDOW_DAYS
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in ("window_days", "is")]
            if unknown:
                raise _Invalid(f"unknown key {unknown[0]!r}; write {written}")
            if "is" not in value:
                raise _Invalid(f"missing 'is'; write {written}")
            if "window_days" in value:
                try:
                    window = whole_number(value["window_days"], minimum=1)
                except _Invalid as exc:
                    raise _Invalid(f"window_days: {exc}") from exc
            value = value["is"]
        return Windowed(window, _comparison(value, example=example, decimals=True))

    return parse


_WHEN_DATE_VALUES = ("future", "past", "none", "any")


def _date_when(value: object) -> DateWhen:
    if value == "future" or value == "past" or value == "none" or value == "any":
        return value
    raise _Invalid(f"{_show(value)} is not one of " + ", ".join(f'"{v}"' for v in _WHEN_DATE_VALUES))


_STATUSES = ", ".join(f'"{s.value}"' for s in Status)
_STATUS_VALUES = frozenset(s.value for s in Status)


def _status(value: object) -> Status:
    if isinstance(value, str) and value in _STATUS_VALUES:
        return Status(value)
    raise _Invalid(f"{_show(value)} is not one of {_STATUSES}")


def _eta(value: object) -> date | str:
    """A named source or a fixed date (an unquoted TOML date, or "YYYY-MM-DD")."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _Invalid(f"{_show(value)} is not a valid date ({exc})") from exc
    if isinstance(value, str) and value in ETA_SOURCE_NAMES:
        return value
    sources = ", ".join(f'"{s}"' for s in ETA_SOURCE_NAMES)
    raise _Invalid(f'{_show(value)} is not an ETA source; use {sources} or a date "YYYY-MM-DD"')


def _cap_table(value: Mapping[object, object]) -> CapSpec:
    unknown = [k for k in value if k not in ("max", "incoming")]
    if unknown:
        raise _Invalid(f"unknown key {unknown[0]!r}; write {{ max = 50, incoming = true }}")
    fixed = None
    if "max" in value:
        try:
            fixed = whole_number(value["max"])
        except _Invalid as exc:
            raise _Invalid(f"max: {exc}") from exc
    incoming = value.get("incoming", False)
    if not isinstance(incoming, bool):
        raise _Invalid(f"incoming: {_show(incoming)} is not true or false")
    if fixed is None and not incoming:
        raise _Invalid("sets no limit; write { max = 50 }, { incoming = true } or both")
    return CapSpec(fixed, incoming)


def _cap(value: object) -> CapSpec:
    """`cap = 200`, `cap = "incoming"` or `cap = { max = 50, incoming = true }`."""
    if value == "incoming":
        return CapSpec(None, True)
    if isinstance(value, Mapping):
        return _cap_table(value)
    if isinstance(value, str):
        raise _Invalid(
            f'{_show(value)} is not a cap; use a whole number, "incoming" or {{ max = 50, incoming = true }}'
        )
    return CapSpec(whole_number(value), False)


def _message(value: object) -> MessageTemplate:
    if not isinstance(value, str):
        raise _Invalid(f"{_show(value)} is not text")
    template, problems = parse_template(value)
    if template is None:
        raise _Invalid(*problems)
    return template


def _rule_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"{_show(value)} is not a name")
    name = value.strip()
    if name.casefold() == "default":
        raise _Invalid('"default" is the name of the built-in fallback; choose another')
    return name


# ---------------------------------------------------------------------------------------------
# The models

T = TypeVar("T")


def _parsed_by(parse: Callable[[object], T]) -> PlainValidator:
    """A pydantic validator that runs one of the parsers above; its complaint is the error text."""

    def validate(value: object) -> T:
        try:
            return parse(value)
        except _Invalid as exc:
            # The texts are passed as context: they may hold braces ("{ max = 50 }").
            raise PydanticCustomError("rule_value", "{problems}", {"problems": exc.problems}) from None

    return PlainValidator(validate)


# Optional inside Annotated: only a key that is written is parsed (None is the default, unparsed).
AvailableValue = Annotated[Comparison | None, _parsed_by(_available)]
CountValue = Annotated[Comparison | None, _parsed_by(_count)]
Names = Annotated[tuple[str, ...] | None, _parsed_by(_names)]
DateValue = Annotated[DateWhen | None, _parsed_by(_date_when)]
Flag = Annotated[bool | None, _parsed_by(_true_or_false)]
Days = Annotated[int | None, _parsed_by(whole_number)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WhenSpec(_Table):
    """A rule's `when` table: every condition must hold (their order does not change the meaning)."""

    available: AvailableValue = None
    tags_any: Names = None
    tags_all: Names = None
    tags_none: Names = None
    categories_any: Names = None
    categories_all: Names = None
    categories_none: Names = None
    vendor_in: Names = None
    supplier_in: Names = None
    sku_matches: Names = None
    release_date: DateValue = None
    restock_date: DateValue = None
    queue_length: CountValue = None
    queued_units: CountValue = None
    velocity: Annotated[Windowed | None, _parsed_by(_windowed("> 2"))] = None
    days_of_cover: Annotated[Windowed | None, _parsed_by(_windowed("< 14"))] = None
    has_reliable_eta: Flag = None
    eta_within_days: Days = None
    """Checks the ETA the rule's own `then.eta` gives."""
    has_eta: Flag = None
    """Checks the ETA the rule's own `then.eta` gives."""

    _written: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: Callable[[Any], WhenSpec]) -> WhenSpec:
        # Reasons list the conditions in the order the shop owner wrote them.
        spec = handler(data)
        if isinstance(data, Mapping):
            spec._written = tuple(k for k in data if k in cls.model_fields)
        return spec

    def conditions(self) -> list[tuple[str, object]]:
        """The conditions on the facts (not the ETA ones), as written: (key, value)."""
        return [(k, getattr(self, k)) for k in self._written if k not in ETA_WHEN_KEYS]


class ThenSpec(_Table):
    """A rule's `then` table: the decision it makes."""

    status: Annotated[Status, _parsed_by(_status)]
    eta: Annotated[date | str | None, _parsed_by(_eta)] = None
    """A source in ETA_SOURCE_NAMES, or a fixed date."""
    handling_days: Days = None
    message: Annotated[MessageTemplate | None, _parsed_by(_message)] = None
    cap: Annotated[CapSpec | None, _parsed_by(_cap)] = None


class RuleSpec(_Table):
    """One `[[rules]]` table, valid in shape and consistent."""

    name: Annotated[str, _parsed_by(_rule_name)]
    when: WhenSpec = WhenSpec()
    then: ThenSpec

    @property
    def wants_eta(self) -> bool:
        """False when the rule matches only without an ETA (`has_eta = false`)."""
        return self.when.has_eta is not False

    @property
    def unconditional(self) -> bool:
        """True when the rule matches every SKU (no condition, no ETA, no cap)."""
        return not self.when._written and self.then.eta is None and self.then.cap is None


ETA_WHEN_KEYS = ("eta_within_days", "has_eta")
"""Conditions on the ETA the rule's own `then.eta` gives."""
WHEN_KEYS = tuple(k for k in WhenSpec.model_fields if k not in ETA_WHEN_KEYS)
THEN_KEYS = tuple(ThenSpec.model_fields)
RULE_KEYS = tuple(RuleSpec.model_fields)
_VALID_WHEN = (*WHEN_KEYS, *ETA_WHEN_KEYS)

_SECTION_KEYS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "": (RULE_KEYS, {"when": _VALID_WHEN, "then": THEN_KEYS}),
    "when": (_VALID_WHEN, {"then": THEN_KEYS}),
    "then": (THEN_KEYS, {"when": _VALID_WHEN}),
}
"""Per section: its keys, and the keys of the sections a misplaced key may belong in."""

_MISSING = {
    "name": "missing",
    "then": 'missing (e.g. then = { status = "out_of_stock" })',
    "then.status": f"missing; use one of {_STATUSES}",
}
_NOT_A_TABLE = {
    "when": 'expected a table like { available = "<= 0" }',
    "then": 'expected a table like { status = "out_of_stock" }',
}


# ---------------------------------------------------------------------------------------------
# pydantic's errors in the shop owner's words


def _unknown_key(key: str, valid: Sequence[str], elsewhere: Mapping[str, Sequence[str]]) -> str:
    for section, keys in elsewhere.items():
        if key in keys:
            return f"unknown key {key!r}; it belongs in {section}"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
    return f"unknown key {key!r}{hint}"


def _problems(error: Mapping[str, Any]) -> list[str]:
    """One pydantic error of a rule as '.section.key: what is wrong' lines (relative to the rule)."""
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    if kind == "extra_forbidden":
        *section, key = loc
        valid, elsewhere = _SECTION_KEYS[".".join(section)]
        return ["".join(f".{s}" for s in section) + ": " + _unknown_key(key, valid, elsewhere)]
    path = ".".join(loc)
    if kind == "rule_value":
        return [f".{path}: {problem}" for problem in error["ctx"]["problems"]]
    if kind == "missing":
        text = _MISSING.get(path, "missing")
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text = _NOT_A_TABLE.get(path, "expected a table")
    else:  # a case the parsers do not cover: pydantic's own words
        text = str(error["msg"])
    return [f".{path}: {text}"]


def _consistency(when: WhenSpec, then: ThenSpec) -> list[str]:
    """What depends on more than one key of a rule whose `when` and `then` are valid in shape."""
    problems: list[str] = []
    if not then.status.sellable_past_zero:
        if then.eta is not None:
            problems.append(
                f'.then.eta: a {then.status} decision has no ETA; only "backorder" and "pre_order" carry one'
            )
        if then.cap is not None:
            problems.append(f".then.cap: limits backorders and pre-orders; a {then.status} decision has none")
    if then.handling_days is not None:
        if then.eta is None:
            problems.append(".then.handling_days: has no effect without then.eta")
        elif then.eta not in SUPPLY_DERIVED:
            problems.append(
                ".then.handling_days: only added to a restock_date, lead_time or supply ETA,"
                f" not to eta = {_show(then.eta)}"
            )
    for key in ETA_WHEN_KEYS:
        if getattr(when, key) is not None and then.eta is None:
            problems.append(f".when.{key}: needs then.eta (the ETA source it checks)")
    if when.eta_within_days is not None and then.eta is not None and when.has_eta is False:
        problems.append(".when.eta_within_days: contradicts has_eta = false")
    problems.extend(_message_consistency(when, then))
    return problems


def _message_consistency(when: WhenSpec, then: ThenSpec) -> list[str]:
    if then.message is None:
        return []
    problems = []
    used_eta = then.message.fields & ETA_FIELDS
    if used_eta and (then.eta is None or when.has_eta is False):
        used = ", ".join(f"{{{f}}}" for f in sorted(used_eta))
        why = "has_eta = false" if then.eta is not None else "there is no then.eta"
        problems.append(f".then.message: uses {used} but this rule never has an ETA ({why})")
    if "limit" in then.message.fields and then.cap is None:
        problems.append(".then.message: uses {limit} but this rule has no then.cap")
    return problems


# ---------------------------------------------------------------------------------------------
# The list


def _written_order(raw: Mapping[str, object], loc: Sequence[int | str]) -> tuple[int, ...]:
    """Where a key stands in the rule as written, so problems come in the order of the text."""
    order: list[int] = []
    table: object = raw
    for part in loc:
        keys = list(table) if isinstance(table, Mapping) else []
        order.append(keys.index(part) if part in keys else len(keys))
        table = table.get(part) if isinstance(table, Mapping) else None
    return tuple(order)


def validate_rule(position: int, raw: object, source: str) -> tuple[RuleSpec | None, list[str]]:
    """One `[[rules]]` table: its spec (None when invalid) and its problems, each fully named."""
    where = f"{source}[{position}]"
    if not isinstance(raw, Mapping):
        return None, [f"{where}: expected a [[rules]] table, got {_show(raw)}"]
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f'{where} ("{name.strip()}")'
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(include_url=False), key=lambda error: _written_order(raw, error["loc"]))
        problems = [where + problem for error in errors for problem in _problems(error)]
        sections = _valid_sections(raw)
        if sections is not None:  # the name was wrong, not what the rule says: check that too
            problems.extend(where + p for p in _consistency(*sections))
        return None, problems
    problems = [where + p for p in _consistency(spec.when, spec.then)]
    return (None if problems else spec), problems


def _valid_sections(raw: Mapping[str, object]) -> tuple[WhenSpec, ThenSpec] | None:
    """A rule's `when` and `then` when both are valid on their own."""
    try:
        return WhenSpec.model_validate(raw.get("when", {})), ThenSpec.model_validate(raw.get("then"))
    except ValidationError:
        return None


def _list_problems(raw_rules: Sequence[object], specs: Sequence[tuple[int, RuleSpec]], source: str) -> list[str]:
    """Unique names (of every rule, valid or not), and no rule after one that matches every item."""
    problems = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(raw_rules):
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            continue
        key = name.strip().casefold()
        if key in seen:
            problems.append(
                f'{source}[{position}] ("{name.strip()}").name: the same name as'
                f" {source}[{seen[key]}]; rule names must be unique"
            )
        else:
            seen[key] = position
    catch_all = next(((p, s) for p, s in specs if s.unconditional), None)
    if catch_all is not None:
        first, everything = catch_all
        problems.extend(
            f'{source}[{position}] ("{spec.name}"): never reached, because'
            f' {source}[{first}] ("{everything.name}") has no conditions and matches every item'
            for position, spec in specs
            if position > first
        )
    return problems


def validate_rules(raw_rules: object, *, source: str = "rules") -> tuple[RuleSpec, ...]:
    """Validate the parsed `[[rules]]` tables; raise RuleError listing every problem."""
    if isinstance(raw_rules, str | bytes | Mapping) or not isinstance(raw_rules, Sequence):
        raise RuleError([f"{source}: expected a list of [[rules]] tables, got {_show(raw_rules)}"])
    problems: list[str] = []
    specs: list[tuple[int, RuleSpec]] = []
    for position, raw in enumerate(raw_rules):
        spec, found = validate_rule(position, raw, source)
        problems.extend(found)
        if spec is not None:
            specs.append((position, spec))
    problems.extend(_list_problems(raw_rules, specs, source))
    if problems:
        raise RuleError(problems)
    return tuple(spec for _, spec in specs)


def validate_options(*, handling_days: object, horizon_days: object, back_in_stock_at: object) -> list[str]:
    """The rule set's options (named as in the config), each a whole number with its minimum."""
    problems = []
    for key, value, minimum in (
        ("handling_days", handling_days, 0),
        ("horizon_days", horizon_days, 1),
        ("back_in_stock_at", back_in_stock_at, 1),
    ):
        if value is None and key == "back_in_stock_at":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            problems.append(f"{key}: {_show(value)} is not a whole number >= {minimum}")
    return problems
