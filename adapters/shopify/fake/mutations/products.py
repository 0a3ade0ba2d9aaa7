"""Mutations of products and variants: productVariantsBulkUpdate, metafieldsSet / metafieldsDelete,
metafieldDefinitionCreate, tagsAdd / tagsRemove, productCreate and productVariantsBulkCreate.

metafieldsSet is atomic (since 2023-01: one bad entry saves nothing) and takes at most 25
metafields; a date metafield's value must be a valid YYYY-MM-DD; a metafield with a definition
must have the definition's type. Metafields and tags go on products, variants and orders (an
order's need `write_orders`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from stockstatus.adapters.shopify.fake.mutations import MAX_INPUT_LIST
from stockstatus.adapters.shopify.fake.records import (
    ISO_DATE,
    Json,
    Order,
    Product,
    Variant,
    gid,
    namespace_of,
    parse_gid,
)
from stockstatus.adapters.shopify.fake.store import Store
from stockstatus.adapters.shopify.fake.views import (
    MetafieldDefinitionView,
    MetafieldView,
    OrderView,
    ProductView,
    VariantView,
    need_scope,
    view_of,
)

__all__ = [
    "bulk_create_variants",
    "bulk_update_variants",
    "change_tags",
    "create_metafield_definition",
    "create_product_from_input",
    "delete_metafields",
    "set_metafields",
]

MAX_METAFIELDS_PER_SET = 25
SCALAR_METAFIELD_TYPES = frozenset(
    {"single_line_text_field", "multi_line_text_field", "date", "date_time", "number_integer", "boolean", "json"}
)
OWNER_TYPES = {"Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT", "Order": "ORDER"}
"""Global-ID kind → MetafieldOwnerType, for the owners the fake keeps metafields on."""


def owner_type(owner: str) -> str | None:
    kind = (re.fullmatch(r"gid://shopify/([A-Za-z]+)/\d+", owner or "") or [None, None])[1]
    return OWNER_TYPES.get(str(kind))


def _bulk_refusal(missing: bool, count: int) -> Json | None:
    """What productVariantsBulkUpdate and productVariantsBulkCreate answer for a product that does
    not exist or too many inputs; None when neither."""
    if missing:
        error: Json = {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
    elif count > MAX_INPUT_LIST:
        error = {"field": ["variants"], "message": f"Input exceeds {MAX_INPUT_LIST} items", "code": "INVALID_INPUT"}
    else:
        return None
    return {"product": None, "productVariants": None, "userErrors": [error]}


def bulk_update_variants(store: Store, product_id: str, inputs: list[Json], partial: bool) -> Json:
    """productVariantsBulkUpdate: policy, SKU and tracking of a product's variants; with an error
    nothing changes unless `partial` (allowPartialUpdates)."""
    product = store.products.get(parse_gid(product_id, "Product") or -1)
    refused = _bulk_refusal(product is None, len(inputs))
    if refused is not None:
        return refused
    assert product is not None
    errors: list[Json] = []
    changes: list[tuple[Variant, Json]] = []
    for index, given in enumerate(inputs):
        if not given.get("id"):
            errors.append(
                {
                    "field": ["variants", str(index), "id"],
                    "message": "Product variant is missing ID attribute",
                    "code": "PRODUCT_VARIANT_ID_MISSING",
                }
            )
            continue
        variant = store.variants.get(parse_gid(given["id"], "ProductVariant") or -1)
        if variant is None or variant.product_id != product.id:
            errors.append(
                {
                    "field": ["variants", str(index), "id"],
                    "message": "Product variant does not exist",
                    "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
                }
            )
            continue
        if given.get("inventoryQuantities") is not None:
            errors.append(
                {
                    "field": ["variants", str(index), "inventoryQuantities"],
                    "code": "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
                    "message": "Inventory quantities can only be provided during create. To update "
                    "inventory for existing variants, use inventoryAdjustQuantities.",
                }
            )
            continue
        if given.get("optionValues") is not None:
            errors.append(
                {
                    "field": ["variants", str(index), "optionValues"],
                    "code": "INVALID_INPUT",
                    "message": "The fake Shopify does not change a variant's option values.",
                }
            )
            continue
        changes.append((variant, given))
    if errors and not partial:
        return {"product": ProductView(store, product), "productVariants": None, "userErrors": errors}
    for variant, given in changes:
        before = (variant.inventory_policy, variant.sku, store.inventory_items[variant.inventory_item_id].tracked)
        if given.get("inventoryPolicy"):
            variant.inventory_policy = given["inventoryPolicy"]
        item_input = given.get("inventoryItem") or {}
        if "sku" in item_input:
            variant.sku = item_input["sku"]
        if item_input.get("tracked") is not None:
            store.inventory_items[variant.inventory_item_id].tracked = item_input["tracked"]
        if (
            variant.inventory_policy,
            variant.sku,
            store.inventory_items[variant.inventory_item_id].tracked,
        ) != before:
            variant.updated_at = store.stamp()
            store.event("PRODUCTS_UPDATE", variant.product_id)
    return {
        "product": ProductView(store, product),
        "productVariants": [VariantView(store, v) for v, _ in changes],
        "userErrors": errors,
    }


def _owner_exists(store: Store, owner: str) -> bool:
    kind = owner_type(owner)
    if kind == "ORDER":
        return (parse_gid(owner, "Order") or -1) in store.orders
    return kind is not None and view_of(store, owner) is not None


def set_metafields(store: Store, inputs: list[Json], info: Any) -> Json:
    """metafieldsSet: at most 25, each checked against its type, all saved or none."""
    need_scope(info, "write_products", "metafieldsSet")
    if len(inputs) > MAX_METAFIELDS_PER_SET:
        return {
            "metafields": None,
            "userErrors": [
                {
                    "field": ["metafields"],
                    "message": f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_SET}.",
                    "code": "LESS_THAN_OR_EQUAL_TO",
                    "elementIndex": None,
                }
            ],
        }
    errors: list[Json] = []
    for index, given in enumerate(inputs):

        def refuse(name: str, message: str, code: str, index: int = index) -> None:
            errors.append(
                {"field": ["metafields", str(index), name], "message": message, "code": code, "elementIndex": index}
            )

        namespace = namespace_of(given.get("namespace"))
        existing = store.metafields.get((given["ownerId"], namespace, given["key"]))
        definition = store.metafield_definitions.get((owner_type(given["ownerId"]) or "", namespace, given["key"]))
        kind = given.get("type") or (definition.type if definition else None) or (existing.type if existing else None)
        if owner_type(given["ownerId"]) == "ORDER":
            need_scope(info, "write_orders", "metafieldsSet")
        if not _owner_exists(store, given["ownerId"]):
            refuse("ownerId", "Owner does not exist.", "INVALID")
        elif not 3 <= len(namespace) <= 255:
            refuse("namespace", "Namespace is too short (minimum is 3 characters)", "TOO_SHORT")
        elif not 2 <= len(given["key"]) <= 64:
            refuse("key", "Key is too short (minimum is 2 characters)", "TOO_SHORT")
        elif kind is None:
            refuse("type", "Type can't be blank.", "BLANK")
        elif kind not in SCALAR_METAFIELD_TYPES:
            refuse("type", f"Type {kind!r} is not a valid type.", "INCLUSION")
        elif definition is not None and kind != definition.type:
            refuse(
                "type",
                f"Type '{kind}' must be consistent with the definition's type: '{definition.type}'.",
                "INVALID_TYPE",
            )
        elif existing is not None and given.get("type") and existing.type != given["type"]:
            refuse("type", f"Type must be {existing.type!r} (the metafield's type).", "INVALID_TYPE")
        elif given["value"] == "":
            refuse("value", "Value can't be blank.", "BLANK")
        elif kind == "date" and not _is_date(given["value"]):
            refuse("value", "Value must be in YYYY-MM-DD format.", "INVALID_VALUE")
        elif kind == "single_line_text_field" and ("\n" in given["value"] or len(given["value"]) > 5000):
            refuse("value", "Value must be a single line of at most 5000 characters.", "INVALID_VALUE")
    if errors:  # atomic since 2023-01: nothing is saved
        return {"metafields": None, "userErrors": errors}
    saved = [
        store.put_metafield(
            given["ownerId"],
            f"{namespace_of(given.get('namespace'))}.{given['key']}",
            given.get("type")
            or next(
                d.type
                for d in (
                    store.metafield_definitions.get(
                        (owner_type(given["ownerId"]) or "", namespace_of(given.get("namespace")), given["key"])
                    ),
                    store.metafields.get((given["ownerId"], namespace_of(given.get("namespace")), given["key"])),
                )
                if d is not None
            ),
            given["value"],
        )
        for given in inputs
    ]
    return {"metafields": [MetafieldView(store, m) for m in saved], "userErrors": []}


def delete_metafields(store: Store, inputs: list[Json], info: Any) -> Json:
    """metafieldsDelete: one entry per input, null where there was no such metafield."""
    need_scope(info, "write_products", "metafieldsDelete")
    if len(inputs) > MAX_INPUT_LIST:
        return {
            "deletedMetafields": None,
            "userErrors": [{"field": ["metafields"], "message": "Too many metafields"}],
        }
    deleted: list[Json | None] = []
    for given in inputs:
        found = store.metafields.pop((given["ownerId"], namespace_of(given["namespace"]), given["key"]), None)
        if found:
            store.touch(given["ownerId"])
        deleted.append(
            {"ownerId": given["ownerId"], "namespace": namespace_of(given["namespace"]), "key": given["key"]}
            if found
            else None
        )
    return {"deletedMetafields": deleted, "userErrors": []}


def create_metafield_definition(store: Store, given: Json) -> Json:
    """metafieldDefinitionCreate: one definition per owner type, namespace and key; an existing
    metafield of another type stops it (Shopify validates existing metafields against it)."""
    namespace = namespace_of(given.get("namespace"))
    where = (given["ownerType"], namespace, given["key"])

    def refuse(name: str, message: str, code: str) -> Json:
        return {
            "createdDefinition": None,
            "userErrors": [{"field": ["definition", name], "message": message, "code": code}],
        }

    if given["type"] not in SCALAR_METAFIELD_TYPES:
        return refuse("type", f"Type {given['type']!r} is not a valid type.", "INCLUSION")
    if not 2 <= len(given["key"]) <= 64:
        return refuse("key", "Key is too short (minimum is 2 characters)", "TOO_SHORT")
    if where in store.metafield_definitions:
        return refuse("key", "Key is in use for this owner type and namespace.", "TAKEN")
    clash = next(
        (
            m
            for (owner, ns, key), m in store.metafields.items()
            if (owner_type(owner), ns, key) == where and m.type != given["type"]
        ),
        None,
    )
    if clash is not None:
        return refuse("type", f"Existing metafields have the type {clash.type!r}.", "INVALID")
    storefront = ((given.get("access") or {}).get("storefront")) or "NONE"
    definition = store.define_metafield(
        given["ownerType"], f"{namespace}.{given['key']}", given["type"], storefront=storefront, title=given["name"]
    )
    return {"createdDefinition": MetafieldDefinitionView(store, definition), "userErrors": []}


def change_tags(store: Store, owner: str, tags: list[str], *, add: bool) -> Json:
    """tagsAdd / tagsRemove on a product or an order; tags compare case-insensitively, as on Shopify."""
    product: Product | Order | None = store.products.get(parse_gid(owner, "Product") or -1) or store.orders.get(
        parse_gid(owner, "Order") or -1
    )
    if product is None:
        return {"node": None, "userErrors": [{"field": ["id"], "message": "Resource not found"}]}
    before = list(product.tags)
    if add:
        for tag in tags:
            if tag.strip() and tag.strip().lower() not in {t.lower() for t in product.tags}:
                product.tags.append(tag.strip())
    else:
        gone = {t.strip().lower() for t in tags}
        product.tags = [t for t in product.tags if t.lower() not in gone]
    if product.tags != before:
        product.updated_at = store.stamp()
        store.event("ORDERS_UPDATED" if isinstance(product, Order) else "PRODUCTS_UPDATE", product.id)
    if isinstance(product, Order):
        return {"node": OrderView(store, product), "userErrors": []}
    return {"node": ProductView(store, product), "userErrors": []}


def create_product_from_input(store: Store, given: Json | None) -> Json:
    """productCreate: the product with Shopify's standalone "Default Title" variant (untracked,
    stocked at the primary location with nothing available)."""
    title = ((given or {}).get("title") or "").strip()
    if not title:
        return {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}
    assert given is not None
    now = store.stamp()
    tags = [t.strip() for t in given.get("tags") or () if t.strip()]
    product = Product(
        store.next_id(),
        title,
        given.get("vendor") or "",
        given.get("productType") or "",
        list(dict.fromkeys(tags)),
        status=given.get("status") or "ACTIVE",
        created_at=now,
        updated_at=now,
    )
    store.products[product.id] = product
    store.add_variant(product, "Default Title", None, "DENY", tracked=False, quantities={})
    return {"product": ProductView(store, product), "userErrors": []}


def bulk_create_variants(store: Store, product_id: str, inputs: list[Json], strategy: str) -> Json:
    """productVariantsBulkCreate, all or nothing: each variant names a value for every option of
    the product (`optionValues: [{optionName: "Title", name: "250 g"}]` for a product made by
    productCreate); DEFAULT drops a lone "Default Title" variant, REMOVE_STANDALONE_VARIANT any
    lone variant, PRESERVE_STANDALONE_VARIANT none."""
    product = store.products.get(parse_gid(product_id, "Product") or -1)
    refused = _bulk_refusal(product is None, len(inputs))
    if refused is not None:
        return refused
    assert product is not None
    lone = store.variants[product.variant_ids[0]] if len(product.variant_ids) == 1 else None
    remove = lone is not None and (
        strategy == "REMOVE_STANDALONE_VARIANT" or (strategy == "DEFAULT" and lone.title == "Default Title")
    )
    titles = {store.variants[v].title for v in product.variant_ids if not (remove and lone and v == lone.id)}
    errors: list[Json] = []
    planned: list[tuple[str, Json, dict[int, int]]] = []
    for index, given in enumerate(inputs):
        where = ["variants", str(index)]
        if given.get("id"):
            errors.append(
                {
                    "field": [*where, "id"],
                    "message": "On create, this key cannot be used.",
                    "code": "NO_KEY_ON_CREATE",
                }
            )
        values: dict[str, str] = {}
        for number, option in enumerate(given.get("optionValues") or ()):
            if option.get("optionName") not in product.options or not (option.get("name") or "").strip():
                errors.append(
                    {
                        "field": [*where, "optionValues", str(number)],
                        "code": "INVALID_INPUT",
                        "message": f"Give optionName (one of {', '.join(product.options)}) and name; "
                        "the fake Shopify does not take option ids.",
                    }
                )
                continue
            values[option["optionName"]] = option["name"].strip()
        missing = [name for name in product.options if name not in values]
        if missing:
            errors.append(
                {
                    "field": where,
                    "code": "NEED_TO_ADD_OPTION_VALUES",
                    "message": f"You need to add option values for {', '.join(missing)}",
                }
            )
            continue
        title = " / ".join(values[name] for name in product.options)
        if title in titles:
            errors.append(
                {
                    "field": where,
                    "code": "VARIANT_ALREADY_EXISTS",
                    "message": f"The variant '{title}' already exists.",
                }
            )
        titles.add(title)
        quantities: dict[int, int] = {}
        for number, quantity in enumerate(given.get("inventoryQuantities") or ()):
            location = store.locations.get(parse_gid(quantity["locationId"], "Location") or -1)
            if location is None:
                errors.append(
                    {
                        "field": [*where, "inventoryQuantities", str(number), "locationId"],
                        "code": "TRACKED_VARIANT_LOCATION_NOT_FOUND",
                        "message": "Quantity could not be set. The location was not found.",
                    }
                )
                continue
            quantities[location.id] = quantity["availableQuantity"]
        planned.append((title, given, quantities))
    if errors:
        return {"product": ProductView(store, product), "productVariants": None, "userErrors": errors}
    if remove and lone is not None:
        store.delete_variant(lone)
    created = [
        store.add_variant(
            product,
            title,
            (given.get("inventoryItem") or {}).get("sku"),
            given.get("inventoryPolicy") or "DENY",
            tracked=bool((given.get("inventoryItem") or {}).get("tracked")),
            quantities=quantities,
        )
        for title, given, quantities in planned
    ]
    return {
        "product": ProductView(store, product),
        "productVariants": [VariantView(store, v) for v in created],
        "userErrors": [],
    }


def _is_date(value: str) -> bool:
    if not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def delete_product_from_input(store: Store, given: Json) -> Json:
    """productDelete: the product, its variants, their inventory items and metafields go."""
    shop = {"id": "gid://shopify/Shop/1", "name": store.shop_name, "myshopifyDomain": store.shop}
    number = parse_gid(given.get("id"), "Product")
    if number is None or number not in store.products:
        return {
            "deletedProductId": None,
            "shop": shop,
            "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
        }
    store.delete_product(number)
    return {"deletedProductId": gid("Product", number), "shop": shop, "userErrors": []}
