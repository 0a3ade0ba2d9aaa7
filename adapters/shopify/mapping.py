"""Shopify payloads ↔ the core's model, and decisions → the fields to write. Pure: no I/O.

Item keys: a variant's numeric id ("gid://shopify/ProductVariant/123" → "123"); every variant is
an item (Shopify has no variant-less products), `parent_key` is its product's numeric id.

What the store shows (`Shown`) comes from the connector's metafields when the status one is set;
otherwise from what Shopify does with the variant: sellable stock → in stock, sold out with
`inventoryPolicy: CONTINUE` → backorder, sold out with DENY → out of stock, stock not tracked →
in stock.

Field names in a plan (what `plan` returns, also what `connector resync` prints), values strings:
- `inventoryPolicy`: "CONTINUE" or "DENY" — only for tracked variants. For a variant whose
  inventory is not tracked Shopify ignores the policy (it always sells), so only metafields are
  written for it. A variant sold through a selling plan (a pre-order or subscription app) keeps
  the policy its app set unless the store's `selling_plans` is "manage".
- `metafield:<namespace>.<key>`: the new value; "" means delete the metafield (an empty value
  is invalid in Shopify, and a missing metafield is what a theme tests for).
- `tags:add` / `tags:remove`: product tags, comma-separated (only with `tags` configured).

Product tags are shared by a product's variants: a status tag is on the product while at least one
of its variants has that status. `TagGroup` collects each variant's wanted tag as `plan` sees it;
the variant planned last in a product plans the removals, so nothing is removed on partial
information (a variant that was not planned — unreadable data — keeps the tags as they are).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from stockstatus.core.errors import FetchError
from stockstatus.core.model import Decision, Item, OpenOrder, OrderLine, Shown, Status, name_set
from stockstatus.core.platform import FieldWrite

from .settings import MetafieldKeys, ShopifySettings

CONTINUE, DENY = "CONTINUE", "DENY"
POLICIES = frozenset({CONTINUE, DENY})
METAFIELD_PREFIX = "metafield:"
TAGS_ADD, TAGS_REMOVE = "tags:add", "tags:remove"
TAG_PREFIX = "tag:"
"""One product tag as a single field (`tag:<name>`): its value is the tag, None when absent (restore)."""
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(\?.*)?$")


def numeric_id(global_id: Any, kind: str | None = None) -> str:
    """ "123" from "gid://shopify/<kind>/123"; FetchError for anything else."""
    match = GID.match(str(global_id or ""))
    if not match or (kind is not None and match.group(1) != kind):
        raise FetchError(f"unexpected id {global_id!r} from the store (expected a {kind or 'Shopify'} global id)")
    return match.group(2)


def variant_gid(key: str) -> str:
    return f"gid://shopify/ProductVariant/{key}"


# --- reading -------------------------------------------------------------------------------


@dataclass(eq=False)
class TagGroup:
    """The status tags of one product, shared by its variants (filled by `plan`)."""

    product_id: str
    tags: frozenset[str]
    variants: int
    wanted: dict[str, str | None] = field(default_factory=dict)
    adding: set[str] = field(default_factory=set)


V = TypeVar("V", bound=Hashable)


class Shared:
    """One object for equal values within a pull (statuses, dates, messages, vendors, ...).

    JSON gives every variant its own copy of each string; a catalogue's variants share a few
    hundred distinct values of these, so each item keeping a copy of its own cost hundreds of
    bytes an item. Lives as long as one pull: what it holds, the items hold anyway.
    """

    def __init__(self) -> None:
        self._seen: dict[Hashable, Any] = {}
        self._product: tuple[Any, str | None] = (None, None)

    def __call__(self, value: V) -> V:
        found: V = self._seen.setdefault(value, value)
        return found

    def fields(
        self, tracked: bool, policy: str, plans: bool, held: tuple[str | None, ...], group: TagGroup | None
    ) -> VariantFields:
        """The `VariantFields` of these values (`held` in the order of `OWN_METAFIELDS`): one object
        for all variants that hold them."""
        key = (VariantFields, tracked, policy, plans, held, group)
        found = self._seen.get(key)
        if found is None:
            values = self._seen.get(("metafields", held))
            if values is None:
                values = self._seen["metafields", held] = MappingProxyType(dict(zip(OWN_METAFIELDS, held, strict=True)))
            found = self._seen[key] = VariantFields(tracked, policy, plans, values, group)
        assert isinstance(found, VariantFields)
        return found

    def product_key(self, global_id: Any) -> str | None:
        """The product's number; one string for a product's variants, which a listing gives one after another."""
        if not global_id:
            return None
        last, key = self._product
        if global_id != last:
            key = numeric_id(global_id, "Product")
            self._product = (global_id, key)
        return key


PLATFORM_FIELDS = ("tracked", "inventory_policy", "selling_plans", "metafields", "tag_group")
"""The names `VariantFields` answers, as plan, push, restore and the report read them."""


@dataclass(frozen=True, slots=True, eq=False)
class VariantFields(Mapping[str, Any]):
    """`Item.platform` of a pulled variant: what plan, push and restore read of it, and no more.

    Read by name like a dict (`PLATFORM_FIELDS`); `metafields` are the connector's own by
    `MetafieldKeys` name, a read-only mapping. Nothing in it is the variant's own (its ids are the
    item's key and parent key: `variant_owner`, `product_owner`), so variants that hold the same
    values share one object (`Shared.fields`): at 100,000 variants a dict of the raw values each
    cost about 1 KB a variant, most of the pass's memory.
    """

    tracked: bool
    inventory_policy: str
    selling_plans: bool
    held: Mapping[str, str | None]
    """The connector's metafields by `MetafieldKeys` name (read-only: shared by equal variants)."""
    tag_group: TagGroup | None = None

    def __getitem__(self, name: str) -> Any:
        if name == "metafields":
            return self.held
        if name in PLATFORM_FIELDS:
            return getattr(self, name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(PLATFORM_FIELDS)

    def __len__(self) -> int:
        return len(PLATFORM_FIELDS)


def variant_owner(item: Item) -> str:
    """The variant's global id, the owner of its metafields."""
    return str(item.platform.get("variant_id") or variant_gid(item.key))


def product_owner(item: Item) -> str | None:
    """The global id of the variant's product (policies are written per product, tags are the product's)."""
    found = item.platform.get("product_id")
    if found:
        return str(found)
    return f"gid://shopify/Product/{item.parent_key}" if item.parent_key else None


def _value(node: Any) -> str | None:
    if isinstance(node, Mapping):
        text = node.get("value")
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _date(text: str | None, name: str, problems: list[str], shared: Shared) -> date | None:
    if text is None:
        return None
    found = _quiet_date(text, shared)
    if found is None:
        problems.append(f"metafield {name}={text!r} is not a date (YYYY-MM-DD)")
    return found


def _quiet_date(text: str | None, shared: Shared | None = None) -> date | None:
    if text is None or not ISO_DATE.match(text):
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        return None
    return shared(found) if shared is not None else found


def quantities(levels: Iterable[Any], locations: frozenset[str]) -> tuple[int, int]:
    """(available, incoming) summed over the inventory levels at `locations` (location gids)."""
    available = incoming = 0
    for level in levels:
        if not isinstance(level, Mapping) or (level.get("location") or {}).get("id") not in locations:
            continue
        for quantity in level.get("quantities") or ():
            if quantity.get("name") == "available":
                available += int(quantity.get("quantity") or 0)
            elif quantity.get("name") == "incoming":
                incoming += int(quantity.get("quantity") or 0)
    return available, incoming


def shown(
    status_text: str | None,
    eta_text: str | None,
    message: str | None,
    *,
    tracked: bool,
    policy: str,
    available: int | None,
    shared: Shared | None = None,
) -> Shown:
    status: Status | None = None
    if status_text is not None:
        try:
            status = Status(status_text)
        except ValueError:
            status = None
    if status is None:
        if not tracked or (available or 0) > 0:
            status = Status.IN_STOCK
        else:
            status = Status.BACKORDER if policy == CONTINUE else Status.OUT_OF_STOCK
    made = Shown(status=status, eta=_quiet_date(eta_text, shared), message=message)
    return shared(made) if shared is not None else made


def variant_item(
    node: Mapping[str, Any],
    keys: MetafieldKeys,
    locations: frozenset[str],
    group: TagGroup | None = None,
    shared: Shared | None = None,
    arrivals: Mapping[str, Sequence[tuple[date, int]]] | None = None,
) -> Item:
    """The Item of one variant node (as `Variants.graphql` or the bulk rebuild shape it).

    `arrivals`: per inventory item gid, the dated units of in-transit shipments. Keeps nothing
    of the node itself: values many variants share are taken through `shared` (one pull's), so
    a catalogue's items hold one copy of each.
    """
    arrivals = arrivals or {}
    share = shared if shared is not None else Shared()
    problems: list[str] = []
    product = node.get("product") or {}
    inventory = node.get("inventoryItem") or {}
    tracked = bool(inventory.get("tracked"))
    levels = ((inventory.get("inventoryLevels") or {}).get("nodes")) or ()
    available, incoming = quantities(levels, locations)
    raw_policy = str(node.get("inventoryPolicy") or DENY)
    policy = CONTINUE if raw_policy == CONTINUE else DENY if raw_policy == DENY else raw_policy

    def merchant(alias: str) -> str | None:
        return _value(node.get(alias)) or _value(product.get(alias))

    title = str(product.get("title") or "")
    variant_title = str(node.get("title") or "")
    held = tuple(_value(node.get(alias)) for alias in OWN_METAFIELDS.values())
    own = dict(zip(OWN_METAFIELDS, held, strict=True))
    key = numeric_id(node.get("id"), "ProductVariant")
    parent_key = share.product_key(product.get("id"))
    supplier = merchant("supplier")
    return Item(
        key=key,
        sku=(str(node["sku"]).strip() or None) if node.get("sku") else None,
        name=f"{title} — {variant_title}" if variant_title and variant_title != "Default Title" else title,
        managed=tracked,
        available=available if tracked else None,
        shown=shown(
            own["status"],
            own["eta"],
            own["message"],
            tracked=tracked,
            policy=policy,
            available=available if tracked else None,
            shared=share,
        ),
        tags=name_set(str(t) for t in product.get("tags") or ()),
        categories=name_set([str(product["productType"])] if product.get("productType") else ()),
        vendor=share(str(product["vendor"])) if product.get("vendor") else None,
        supplier=share(supplier) if supplier is not None else None,
        release_date=_date(merchant("releaseDate"), keys.release_date, problems, share),
        restock_date=_date(merchant("restockDate"), keys.restock_date, problems, share),
        parent_key=parent_key,
        problems=tuple(problems),
        incoming=incoming if tracked else None,
        incoming_dated=_dated(incoming if tracked else None, arrivals.get(str(inventory.get("id") or "")), share),
        platform=share.fields(tracked, policy, selling_plans(node), held, group),
    )


def _dated(
    incoming: int | None, found: Sequence[tuple[date, int]] | None, shared: Shared
) -> tuple[tuple[date, int], ...]:
    """The dated part of `incoming` (in-transit shipments of the variant's item), soonest first and never more."""
    if not found or not incoming:
        return ()
    left = incoming
    dated: list[tuple[date, int]] = []
    for day, quantity in sorted(found):
        if left <= 0:
            break
        dated.append((shared(day), min(quantity, left)))
        left -= dated[-1][1]
    return tuple(dated)


def selling_plans(node: Mapping[str, Any]) -> bool:
    """Whether a variant is sold through a selling plan: it is in a selling plan group, or its
    product can only be bought with one (`requiresSellingPlan`)."""
    count = (node.get("sellingPlanGroupsCount") or {}).get("count") or 0
    return int(count) > 0 or bool((node.get("product") or {}).get("requiresSellingPlan"))


def parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise FetchError(f"{what}: no createdAt")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise FetchError(f"{what}: unreadable createdAt {value!r}") from exc


OPEN_WORK = frozenset({"OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"})
"""Fulfillment order statuses whose units still wait to ship (held and scheduled work included)."""


def open_work(work: Iterable[tuple[Mapping[str, Any], Iterable[Mapping[str, Any]]]]) -> list[OpenOrder]:
    """Fulfillment orders (each with all its line items) as open orders: one per order, its lines
    the units still to ship per variant, keyed like items; lines of deleted variants are dropped."""
    orders: dict[str, tuple[Mapping[str, Any], dict[str, list[Any]], set[str]]] = {}
    for fulfillment_order, line_items in work:
        order = fulfillment_order.get("order") or {}
        order_id = numeric_id(order.get("id"), "Order")
        _, lines, statuses = orders.setdefault(order_id, (order, {}, set()))
        statuses.add(str(fulfillment_order.get("status") or ""))
        for line in line_items:
            variant = line.get("variant") or {}
            waiting = int(line.get("remainingQuantity") or 0)
            if not variant.get("id") or waiting <= 0:
                continue
            key = numeric_id(variant["id"], "ProductVariant")
            entry = lines.setdefault(key, [line.get("sku") or None, 0])
            entry[1] += waiting
    return [
        OpenOrder(
            order_id=order_id,
            created_at=parse_time(order.get("createdAt"), f"order {order.get('name') or order_id}"),
            lines=tuple(OrderLine(item_key=key, sku=sku, quantity=quantity) for key, (sku, quantity) in lines.items()),
            status=",".join(sorted(statuses)),
            number=str(order.get("name") or ""),
        )
        for order_id, (order, lines, statuses) in orders.items()
        if lines
    ]


# --- writing -------------------------------------------------------------------------------


OWN_METAFIELDS = {
    "status": "status",
    "eta": "eta",
    "message": "message",
    "sellout_status": "selloutStatus",
    "sellout_eta": "selloutEta",
    "sellout_message": "selloutMessage",
}
"""The connector's own variant metafields (`MetafieldKeys` field → alias in the variant queries)."""


class Plan(dict[str, str]):
    """The fields of a plan, read-only once made, so that equal plans can be one object (`Plans`).

    A dict still (the state file stores plans as JSON objects); every change to it is refused.
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a plan is read-only: build a new one")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[type[Plan], tuple[dict[str, str]]]:
        # copy and pickle rebuild a dict subclass item by item, which a read-only one refuses.
        return (Plan, (dict(self),))


class Plans:
    """One `Plan` object for equal plans: a pass holds its whole plan until it ends, and on a
    first pass most variants plan the same few sets of fields (a dict each cost about 250 bytes
    a variant). Kept to `limit` distinct plans, then started afresh, so a daemon's adapter does
    not grow with every ETA it ever planned."""

    def __init__(self, limit: int = 4096) -> None:
        self._made: dict[tuple[tuple[str, str], ...], Plan] = {}
        self._limit = limit

    def __call__(self, fields: Mapping[str, str]) -> Plan:
        key = tuple(fields.items())
        found = self._made.get(key)
        if found is None:
            if len(self._made) >= self._limit:
                self._made.clear()
            found = self._made[key] = Plan(fields)
        return found


def desired_policy(decision: Decision) -> str:
    """CONTINUE while the variant should sell past zero; pre-armed while stock is positive.

    An in-stock decision carries what should happen at the last sale (`on_sellout`): writing it
    now makes Shopify switch at that instant rather than at the next pass.
    """
    if decision.status is Status.IN_STOCK:
        return CONTINUE if decision.on_sellout is not None and decision.on_sellout.sellable_past_zero else DENY
    return CONTINUE if decision.status.sellable_past_zero else DENY


def metafield_field(keys: MetafieldKeys, name: str) -> str:
    return _field_name(keys.namespace, getattr(keys, name))


@lru_cache(maxsize=256)
def _field_name(namespace: str, key: str) -> str:
    # One string per metafield, not one per planned variant: a pass holds its whole plan.
    return f"{METAFIELD_PREFIX}{namespace}.{key}"


@lru_cache(maxsize=4096)
def _iso(day: date) -> str:
    """A date as a plan writes it; one string per date, as many variants share an ETA."""
    return day.isoformat()


def plan(item: Item, decision: Decision, settings: ShopifySettings) -> dict[str, str]:
    """The fields that differ between what `item` holds and what shows `decision`."""
    platform = item.platform
    fields: dict[str, str] = {}
    # A selling plan's app (pre-orders, subscriptions) sets the policy its plan needs; writing
    # ours would switch its pre-orders off. The merchant may hand the policy to the connector.
    if platform.get("tracked") and (settings.selling_plans == "manage" or not platform.get("selling_plans")):
        wanted = desired_policy(decision)
        if platform.get("inventory_policy") != wanted:
            fields["inventoryPolicy"] = wanted
    keys = settings.metafields
    held: Mapping[str, str | None] = platform.get("metafields") or {}
    # The sell-out metafields hold what an in-stock variant shows once its last unit sells,
    # written ahead: Shopify switches by itself at that sale (the policy is pre-armed), and a
    # theme that reads them at zero stock shows the right date and message before the next pass.
    after = decision.at_sellout
    for name, value in (
        ("status", decision.status.value),
        ("eta", _iso(decision.eta) if decision.eta else ""),
        ("message", (decision.message or "").strip()),
        ("sellout_status", after.status.value if after is not None else ""),
        ("sellout_eta", _iso(after.eta) if after is not None and after.eta else ""),
        ("sellout_message", (after.message or "").strip() if after is not None else ""),
    ):
        if (held.get(name) or "") != value:
            fields[metafield_field(keys, name)] = value
    group = platform.get("tag_group")
    if settings.tags and isinstance(group, TagGroup):
        fields.update(_plan_tags(item, decision, settings, group))
    validate_fields(item, fields)
    return fields


def _plan_tags(item: Item, decision: Decision, settings: ShopifySettings, group: TagGroup) -> dict[str, str]:
    lower = {t.lower() for t in group.tags}
    own = settings.tags.get(decision.status)
    group.wanted[item.key] = own
    fields: dict[str, str] = {}
    if own is not None and own.lower() not in lower:
        fields[TAGS_ADD] = own
        group.adding.add(own.lower())
    if len(group.wanted) == group.variants:
        kept = {t.lower() for t in group.wanted.values() if t}
        stale = sorted(
            t for t in group.tags if t.lower() in {s.lower() for s in settings.tags.values()} and t.lower() not in kept
        )
        if stale:
            fields[TAGS_REMOVE] = ",".join(stale)
    return fields


def validate_fields(item: Item, fields: Mapping[str, Any]) -> None:
    """Refuse values Shopify would refuse or misread (raises ValueError naming the item)."""
    for name, value in fields.items():
        if not isinstance(value, str):
            raise ValueError(f"{item.label}: {name} must be text, not {value!r}")
        if name == "inventoryPolicy":
            if value not in POLICIES:
                raise ValueError(f"{item.label}: refusing to write inventoryPolicy={value!r} (not CONTINUE or DENY)")
            if not item.platform.get("tracked"):
                raise ValueError(
                    f"{item.label}: inventory is not tracked, so the policy has no effect and is not written"
                )
        elif name.startswith(METAFIELD_PREFIX):
            namespace, _, key = name[len(METAFIELD_PREFIX) :].partition(".")
            if not namespace or not key:
                raise ValueError(f"{item.label}: metafield field {name!r} is not namespace.key")
            if value and "\n" in value:
                raise ValueError(f"{item.label}: metafield {key} must be a single line")
        elif name in (TAGS_ADD, TAGS_REMOVE):
            if not value or not product_owner(item):
                raise ValueError(f"{item.label}: {name} needs tags and the product's id")
        else:
            raise ValueError(f"{item.label}: unknown Shopify field {name!r}")


# --- restoring -----------------------------------------------------------------------------


def written(fields: Mapping[str, Any]) -> list[FieldWrite]:
    """Each field a plan writes, as the store then holds it: a metafield written "" is deleted
    (None), each tag added or removed is a field `tag:<name>` on the product."""
    out: list[FieldWrite] = []
    for name, value in fields.items():
        if name in (TAGS_ADD, TAGS_REMOVE):
            for tag in str(value).split(","):
                if tag:
                    out.append(FieldWrite(TAG_PREFIX + tag.lower(), tag if name == TAGS_ADD else None, shared=True))
        elif name.startswith(METAFIELD_PREFIX):
            out.append(FieldWrite(name, str(value) or None))
        else:
            out.append(FieldWrite(name, str(value)))
    return out


def held(item: Item, name: str, keys: MetafieldKeys) -> str | None:
    """What `item` holds now in a field of `written` (None: no such metafield or tag).

    The connector's metafields are read by the names `variant_item` keeps (`platform["metafields"]`);
    LookupError for a field the pull does not read.
    """
    platform = item.platform
    if name == "inventoryPolicy":
        # Shopify ignores the policy of a variant whose inventory is not tracked; the connector never sets it.
        return str(platform.get("inventory_policy") or DENY) if platform.get("tracked") else None
    if name.startswith(TAG_PREFIX):
        wanted = name[len(TAG_PREFIX) :]
        return next((t for t in sorted(item.tags) if t.lower() == wanted), None)
    if name.startswith(METAFIELD_PREFIX):
        values: Mapping[str, str | None] = platform.get("metafields") or {}
        for own, value in values.items():
            if hasattr(keys, own) and metafield_field(keys, own) == name:
                return value
    raise LookupError(f"{item.label}: no Shopify field {name!r} to read back")


def restore_fields(item: Item, fields: Mapping[str, str | None]) -> dict[str, str]:
    """The plan fields (as `push` writes them) that put `fields` back: "" deletes a metafield,
    a tag absent before is removed, one present before is added."""
    out: dict[str, str] = {}
    adds: list[str] = []
    removes: list[str] = []
    for name, value in fields.items():
        if name.startswith(TAG_PREFIX):
            if value is None:
                removes.extend(t for t in sorted(item.tags) if t.lower() == name[len(TAG_PREFIX) :])
            else:
                adds.append(value)
        else:
            out[name] = value or ""
    if adds:
        out[TAGS_ADD] = ",".join(adds)
    if removes:
        out[TAGS_REMOVE] = ",".join(removes)
    validate_fields(item, out)
    return out
