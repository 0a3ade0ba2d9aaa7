"""Where incoming stock comes from: purchase-order files, merchants' restock dates, platform `incoming`.

Every source is optional; their events are combined per SKU into `Facts.supply`.

Where the platform knows when part of its `incoming` arrives (Shopify's in-transit inventory
shipments with an arrival date: `Item.incoming_dated`) that date is used as it is. The rest of
a platform's `incoming` quantity (Shopify) carries no date. It is dated from the day the
connector first saw it plus the item's lead time (`date_incoming`, the first-seen day kept in
the state file), so its ETA does not move as days pass; and it is an estimate, so it counts as
supply only where the config says the platform's incoming is a reliable timeline
(`supply.platform_incoming_reliable`). A source that
cannot be read never fails a pass: its problems become warnings of the run, and the sources
that could be read are used.

Purchase-order files are CSV with a header row naming the columns `sku`, `quantity`,
`expected_date` (YYYY-MM-DD), and optionally `supplier` and `reference`, in any order::

    sku,quantity,expected_date,supplier,reference
    KTL-1,24,2026-12-10,Acme,PO-1042

A file is parsed again only when its modification time or size changes, so a daemon running
pass after pass reads each file once per edit.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from stockstatus.core.model import Item
from stockstatus.rules.model import SupplyEvent

REQUIRED_COLUMNS = ("sku", "quantity", "expected_date")
OPTIONAL_COLUMNS = ("supplier", "reference")
RESTOCK_REFERENCE = "restock_date meta"
INCOMING_REFERENCE = "shopify incoming"
SHIPMENT_REFERENCE = "shopify shipment"

MAX_QUANTITY = 1_000_000_000
"""More units than this on one line is a typo (or a date in the quantity column), not a purchase order."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class IncomingSeen:
    """An item's undated incoming quantity and the day (store calendar) it was first seen."""

    quantity: int
    first_seen: date


def undated_incoming(item: Item) -> int:
    """The units of the platform's `incoming` that come without an arrival day."""
    return max(0, (item.incoming or 0) - sum(quantity for _, quantity in item.incoming_dated))


def date_incoming(
    items: Iterable[Item], known: Mapping[str, IncomingSeen], today: date
) -> tuple[dict[str, IncomingSeen], list[str]]:
    """(the sightings to keep for the pulled items, the keys whose incoming stock is gone).

    A quantity seen before keeps its first day whatever it becomes while it stays above zero
    (units arriving in parts, a count corrected): only when it drops to nothing (received, or
    the transfer cancelled) is it forgotten, and incoming stock seen later is dated anew.
    """
    seen: dict[str, IncomingSeen] = {}
    gone: list[str] = []
    for item in items:
        incoming = undated_incoming(item)
        before = known.get(item.key)
        if incoming > 0:
            first = before.first_seen if before is not None else today
            if before is None or before.quantity != incoming:
                seen[item.key] = IncomingSeen(incoming, first)
        elif before is not None:
            gone.append(item.key)
    return seen, gone


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One purchase-order file as read: its events by SKU and what was wrong with which lines."""

    events: Mapping[str, tuple[SupplyEvent, ...]]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PurchaseOrders:
    """Every configured file's events, combined by SKU (soonest first), and the problems found."""

    events: Mapping[str, tuple[SupplyEvent, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()

    @property
    def digest(self) -> str:
        """A digest of the events: equal digests, equal supply (whatever the files' layout)."""
        text = repr(sorted(self.events.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


NO_PURCHASE_ORDERS = PurchaseOrders()


class PurchaseOrderFiles:
    """The purchase-order files the config names (globs, relative to the config file).

    `read()` returns the combined events; a file is parsed again only when its modification
    time or size changed since the last `read()` on this object.
    """

    def __init__(self, patterns: Iterable[str], *, base_dir: Path = Path(".")) -> None:
        self.patterns = tuple(patterns)
        self.base_dir = base_dir
        self._cache: dict[Path, tuple[tuple[int, int], ParsedFile]] = {}
        self.parses = 0
        """How many times a file was parsed (not served from the cache), for the curious."""

    def paths(self) -> list[Path]:
        """The files the globs match now, each once, in a stable order."""
        found: dict[Path, None] = {}
        for pattern in self.patterns:
            full = pattern if os.path.isabs(pattern) else str(self.base_dir / pattern)
            for name in sorted(glob.glob(full, recursive=True)):
                path = Path(name)
                if path.is_file():
                    found.setdefault(path, None)
        return list(found)

    def unmatched(self) -> list[str]:
        """A problem per pattern that looks mistyped: a file that is not there, or a glob in a missing folder.

        A glob whose folder exists but holds no matching file is fine: an empty inbox.
        """
        problems = []
        for pattern in self.patterns:
            full = pattern if os.path.isabs(pattern) else str(self.base_dir / pattern)
            if glob.has_magic(full):
                folder = Path(full)
                while glob.has_magic(str(folder)):
                    folder = folder.parent
                if not folder.is_dir():
                    problems.append(
                        f"supply.purchase_orders: {pattern!r}: the folder {folder} does not exist; create it (an "
                        "empty one is fine) or check the path (relative paths start at the config file's folder)"
                    )
            elif not Path(full).is_file():
                problems.append(
                    f"supply.purchase_orders: {pattern!r} matches no file ({full}); check the path "
                    "(relative paths start at the config file's folder), or use a glob such as 'incoming/*.csv'"
                )
        return problems

    def read(self) -> PurchaseOrders:
        paths = self.paths()
        combined: dict[str, list[SupplyEvent]] = defaultdict(list)
        warnings: list[str] = self.unmatched()
        for path in paths:
            parsed = self._parsed(path)
            warnings.extend(parsed.problems)
            for sku, events in parsed.events.items():
                combined[sku].extend(events)
        for gone in set(self._cache) - set(paths):
            del self._cache[gone]
        return PurchaseOrders(
            events={sku: _soonest_first(events) for sku, events in combined.items()},
            warnings=tuple(warnings),
            files=tuple(paths),
        )

    def _parsed(self, path: Path) -> ParsedFile:
        try:
            stat = path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(path)
            if cached is not None and cached[0] == key:
                return cached[1]
            raw = path.read_bytes()
        except OSError as exc:
            self._cache.pop(path, None)
            return ParsedFile({}, (f"{path}: cannot read the purchase-order file: {exc.strerror or exc}",))
        self.parses += 1
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            parsed = ParsedFile(
                {},
                (
                    f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}, perhaps Latin-1 or Windows-1252); "
                    "save the file as UTF-8 CSV (in Excel: Save as → CSV UTF-8)",
                ),
            )
        else:
            parsed = parse_purchase_orders(text, source=str(path))
        self._cache[path] = (key, parsed)
        return parsed


def parse_purchase_orders(text: str, *, source: str) -> ParsedFile:
    """Parse one purchase-order CSV; bad lines are reported as "source:line: what is wrong" and skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    for row in reader:
        if any(cell.strip() for cell in row):
            header, header_line = [cell.strip().casefold() for cell in row], reader.line_num
            break
    if header is None:
        return ParsedFile({})
    if len(header) == 1 and ";" in header[0] and all(c in header[0] for c in ("sku", "quantity")):
        return ParsedFile(
            {},
            (
                f"{source}:{header_line}: the columns are separated by ';', not ','; save the file as "
                "comma-separated CSV (in Excel: Save as → CSV UTF-8 (Comma delimited))",
            ),
        )
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        return ParsedFile(
            {},
            (
                f"{source}:{header_line}: column(s) {', '.join(twice)} appear more than once in the header; "
                "keep one of each",
            ),
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return ParsedFile(
            {},
            (
                (
                    f"{source}:{header_line}: the header lacks column(s) {', '.join(missing)} "
                    f"(need {', '.join(REQUIRED_COLUMNS)}; optional {', '.join(OPTIONAL_COLUMNS)})"
                ),
            ),
        )
    column = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    events: dict[str, list[SupplyEvent]] = defaultdict(list)
    problems: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"{source}:{reader.line_num}"
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            problems.append(
                f"{where}: more values than the header has columns; a comma inside a value needs the value "
                'in double quotes ("Acme, Inc.")'
            )
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = column.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        errors = []
        sku = cell("sku")
        if not sku:
            errors.append("sku is empty (give each line the SKU of the product it brings)")
        quantity_text = cell("quantity")
        quantity: int | None = None
        if re.fullmatch(r"\d+", quantity_text) and int(quantity_text) > MAX_QUANTITY:
            errors.append(f"quantity {quantity_text} is more than {MAX_QUANTITY:,} units; check the column")
        elif re.fullmatch(r"\d+", quantity_text):
            quantity = int(quantity_text)
        elif re.fullmatch(r"-\s*\d+", quantity_text):
            errors.append(
                f"quantity {quantity_text} is negative; a purchase order brings units: write how many "
                "are coming (0 for a cancelled line)"
            )
        else:
            errors.append(f"quantity {quantity_text!r} is not a whole number of units (write e.g. 24)")
        expected_text = cell("expected_date")
        expected: date | None = None
        try:
            if not _ISO_DATE.fullmatch(expected_text):
                raise ValueError
            expected = date.fromisoformat(expected_text)
        except ValueError:
            errors.append(f"expected_date {expected_text!r} is not a date like 2026-12-31 (year-month-day)")
        if errors:
            problems.append(f"{where}: {'; '.join(errors)}")
            continue
        assert quantity is not None and expected is not None
        if quantity == 0:  # a cancelled line: nothing is coming
            continue
        events[sku].append(
            SupplyEvent(
                expected=expected,
                quantity=quantity,
                supplier=cell("supplier") or None,
                reference=cell("reference") or None,
            )
        )
    return ParsedFile({sku: tuple(found) for sku, found in events.items()}, tuple(problems))


def supply_for(
    item: Item,
    *,
    purchase_orders: PurchaseOrders,
    today: date,
    lead_time_days: int | None,
    incoming_since: date | None = None,
    incoming_reliable: bool = True,
) -> tuple[SupplyEvent, ...]:
    """Every incoming event for one item, soonest first: purchase orders, restock date, platform `incoming`.

    The platform's `incoming` is expected `lead_time_days` after `incoming_since` (the day it was
    first seen; today when unknown), and only when `incoming_reliable`.
    """
    events: list[SupplyEvent] = list(purchase_orders.events.get(item.sku, ())) if item.sku else []
    if item.restock_date is not None:
        events.append(SupplyEvent(expected=item.restock_date, supplier=item.supplier, reference=RESTOCK_REFERENCE))
    for arrives, quantity in item.incoming_dated:  # the platform's own date: no estimate
        events.append(
            SupplyEvent(expected=arrives, quantity=quantity, supplier=item.supplier, reference=SHIPMENT_REFERENCE)
        )
    incoming = undated_incoming(item)
    if incoming_reliable and incoming > 0 and lead_time_days is not None:
        events.append(
            SupplyEvent(
                expected=(incoming_since or today) + timedelta(days=lead_time_days),
                quantity=incoming,
                supplier=item.supplier,
                reference=INCOMING_REFERENCE,
            )
        )
    return _soonest_first(events)


def _soonest_first(events: Iterable[SupplyEvent]) -> tuple[SupplyEvent, ...]:
    return tuple(sorted(events, key=lambda e: (e.expected, e.reference or "", e.supplier or "")))
