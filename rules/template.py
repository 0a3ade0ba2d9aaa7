"""Message templates: validated once, rendered without `str.format` on user text.

A template is Python format-string syntax restricted to a few named fields:

- `{eta}`: the ETA date; the format spec is a strftime pattern (`{eta:%-d %B %Y}`), none gives ISO.
- `{days}`: whole days from today until the ETA.
- `{sku}`, `{name}`: the item's SKU and name.
- `{available}`: the sellable quantity.
- `{queue}`: units already waiting (sold beyond stock).
- `{limit}`: units that may still be ordered (the rule's `then.cap`; a rule without one may not
  use it).

Buyer notices (the connector's `notify` messages) use the same engine with their own set of
fields, `NOTICE_FIELDS`: `{order}` (the order number), `{sku}`, `{name}`, `{eta}` and `{days}`.

`{{` and `}}` are literal braces. Attribute or index access, conversions (`!r`) and nested fields
are refused when the rule is compiled. A value that is absent when the message is rendered (no ETA,
stock not tracked) renders as an empty string, never as an error.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

FIELDS = ("eta", "days", "sku", "name", "available", "queue", "limit")
"""The fields of a rule's `then.message`."""
NOTICE_FIELDS = ("order", "sku", "name", "eta", "days")
"""The fields of a notice to a waiting buyer."""
ETA_FIELDS = frozenset({"eta", "days"})
_NUMBER_FIELDS = frozenset({"days", "available", "queue", "limit"})

_SAMPLE_DATE = date(2001, 2, 3)


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A parsed template: (literal text, field name or None, format spec) parts."""

    text: str
    parts: tuple[tuple[str, str | None, str], ...]
    fields: frozenset[str] = field(init=False, compare=False)
    """The field names the template uses."""
    _dates: dict[tuple[date, str], str] = field(init=False, compare=False, repr=False)
    """Formatted ETAs by (date, pattern): a catalogue has few distinct ETAs, strftime is slow."""
    _rendered: dict[tuple[object, ...], str] | None = field(init=False, compare=False, repr=False)
    """Messages by the values they show; None when the template shows something of each item's
    own (SKU, name, order): a catalogue's messages repeat a few ETAs and limits."""
    _shows: tuple[bool, bool, bool, bool, bool] = field(init=False, compare=False, repr=False)
    """Whether it shows the ETA, today (through days), available, queue, limit."""

    def __post_init__(self) -> None:
        fields = frozenset(name for _, name, _ in self.parts if name is not None)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "_dates", {})
        per_item = not fields.isdisjoint({"sku", "name", "order"})
        object.__setattr__(self, "_rendered", None if per_item else {})
        shows = (not fields.isdisjoint(ETA_FIELDS), "days" in fields, "available" in fields, "queue" in fields)
        object.__setattr__(self, "_shows", (*shows, "limit" in fields))

    def render(
        self,
        sku: str,
        name: str,
        available: int | None,
        eta: date | None,
        today: date,
        queue: int | None,
        limit: int | None,
    ) -> str:
        """`render_message` for a rule's message, remembering what it rendered (the same text
        for the same values shown: the values it does not show are left out of the key)."""
        rendered = self._rendered
        if rendered is None:
            return render_message(
                self, sku=sku, name=name, available=available, eta=eta, today=today, queue=queue, limit=limit
            )
        shows_eta, shows_days, shows_available, shows_queue, shows_limit = self._shows
        key = (
            eta if shows_eta else None,
            today if shows_days else None,
            available if shows_available else None,
            queue if shows_queue else None,
            limit if shows_limit else None,
        )
        text = rendered.get(key)
        if text is None:
            if len(rendered) > 4096:
                rendered.clear()
            text = rendered[key] = render_message(
                self, sku=sku, name=name, available=available, eta=eta, today=today, queue=queue, limit=limit
            )
        return text

    def format_date(self, day: date, spec: str) -> str:
        """`day` formatted with a strftime pattern (ISO without one), remembered per template."""
        key = (day, spec)
        text = self._dates.get(key)
        if text is None:
            if len(self._dates) > 4096:
                self._dates.clear()
            text = self._dates[key] = day.strftime(spec) if spec else day.isoformat()
        return text


def parse_template(text: str, fields: Sequence[str] = FIELDS) -> tuple[MessageTemplate | None, list[str]]:
    """Parse and check a template that may use `fields`; return it (None if invalid) and the problems found."""
    known = "{" + "}, {".join(fields) + "}"
    problems: list[str] = []
    try:
        raw = list(string.Formatter().parse(text))
    except ValueError as exc:
        return None, [f"{exc} (write {{{{ or }}}} for a literal brace)"]
    parts: list[tuple[str, str | None, str]] = []
    for literal, field_name, spec, conversion in raw:
        if field_name is None:
            parts.append((literal, None, ""))
            continue
        field_text = "{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        base = field_name.split(".", 1)[0].split("[", 1)[0]
        if field_name == "" or field_name.isdigit():
            problems.append(f"{field_text}: name the field, one of {known}")
            continue
        if base not in fields:
            problems.append(f"{field_text}: unknown field {base!r}; use one of {known}")
            continue
        if base != field_name:
            problems.append(
                f"{field_text}: attribute or index access is not allowed"
                f" (format a date with a strftime pattern, e.g. {{eta:%Y}})"
            )
            continue
        if conversion:
            problems.append(f"{field_text}: conversions like !{conversion} are not allowed")
            continue
        spec = spec or ""
        if "{" in spec or "}" in spec:
            problems.append(f"{field_text}: nested fields in a format spec are not allowed")
            continue
        problem = _check_spec(field_name, spec)
        if problem:
            problems.append(f"{field_text}: {problem}")
            continue
        parts.append((literal, field_name, spec))
    if problems:
        return None, problems
    return MessageTemplate(text, tuple(parts)), []


def _check_spec(field_name: str, spec: str) -> str | None:
    if not spec:
        return None
    try:
        if field_name == "eta":
            _SAMPLE_DATE.strftime(spec)
        elif field_name in _NUMBER_FIELDS:
            format(1, spec)
        else:
            format("x", spec)
    except ValueError as exc:
        return f"invalid format {spec!r}: {exc}"
    return None


def render_message(
    template: MessageTemplate,
    *,
    sku: str,
    name: str,
    available: int | None = None,
    eta: date | None,
    today: date,
    queue: int | None = None,
    limit: int | None = None,
    order: str | None = None,
) -> str:
    """Render a validated template; absent values (no ETA, untracked stock) render as ''."""
    out: list[str] = []
    for literal, field_name, spec in template.parts:
        out.append(literal)
        if field_name is None:
            continue
        value: object
        if field_name == "eta":
            if eta is not None:
                out.append(template.format_date(eta, spec))
            continue
        if field_name == "days":
            value = (eta - today).days if eta is not None else None
        elif field_name == "available":
            value = available
        elif field_name == "queue":
            value = queue
        elif field_name == "limit":
            value = limit
        elif field_name == "sku":
            value = sku
        elif field_name == "order":
            value = order
        else:
            value = name
        if value is not None:
            out.append(format(value, spec))
    return "".join(out)
