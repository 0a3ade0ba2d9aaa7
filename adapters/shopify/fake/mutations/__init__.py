"""The fake's mutations, one module per kind of record they change.

Each function checks a mutation's input as Shopify does and answers its payload (the changed
records' views and `userErrors`), then changes the `Store`: `products` (variants, metafields,
tags, productCreate and productVariantsBulkCreate), `inventory` (inventorySetQuantities and
inventoryAdjustQuantities under `@idempotent`) and `orders` (orderUpdate, orderCreate,
orderCancel). `root.Root` maps the Mutation type's fields onto them.
"""

from __future__ import annotations

MAX_INPUT_LIST = 250
"""The most entries Shopify takes in one input list (variants, metafields to delete, line items)."""
