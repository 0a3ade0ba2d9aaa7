"""An in-process Shopify (Admin GraphQL API) that behaves like the real one where the connector cares.

The fake executes the documents it receives with graphql-core against `schema.graphql`, a
subset of the official Admin API schema (a test checks it is one), so a document the real API
would refuse for its shape is refused here too. Like Shopify it:

- authenticates every request with `X-Shopify-Access-Token` (401 with Shopify's body otherwise)
  and issues tokens through the client-credentials grant (`POST /admin/oauth/access_token`,
  form fields grant_type, client_id, client_secret; answer access_token, scope, expires_in);
- charges each query its calculated cost (`cost`) against a leaky bucket whose size and
  restore rate depend on the plan, answers `extensions.cost` with `throttleStatus` in every
  GraphQL response, refuses a query whose bucket is too empty with `THROTTLED` (HTTP 200), and
  one that requests more than 1,000 points with `MAX_COST_EXCEEDED`;
- requires `first` or `last` (at most 250) on every connection, except in a bulk operation;
- answers ACCESS_DENIED for a field whose access scope the token lacks;
- runs bulk operations (`bulkOperationRunQuery`) whose JSONL result it serves on its own host;
- charges an inventory level per location asked for: a connection of levels costs `first` of
  them, an aliased `inventoryLevel(locationId:)` one object each;
- checks mutation input and answers `userErrors` (unknown product or variant, a metafield value
  that is not a valid date, more than 25 metafields in one metafieldsSet — which is atomic —,
  input lists over 250 entries);
- takes an order's quantities off `available` at the first active location that fulfils online
  orders and stocks the item (Shopify's `committed` quantity);
- changes stock, orders and products through the API a merchant or another app uses:
  inventorySetQuantities / inventoryAdjustQuantities (`available`; set also `on_hand`), all or
  nothing, each quantity compared with its mandatory `changeFromQuantity` (explicit null skips the
  comparison), under the `@idempotent(key:)` directive required since 2026-04 (a retried key
  answers the first answer); orderCreate with `options.inventoryBehaviour` (BYPASS, the default,
  takes no stock; DECREMENT_OBEYING_POLICY refuses a tracked DENY variant short of stock);
  orderCancel (answers a Job; `restock` puts committed units back); productCreate (one
  standalone "Default Title" variant) and productVariantsBulkCreate (DEFAULT /
  REMOVE_STANDALONE_VARIANT / PRESERVE_STANDALONE_VARIANT);
- keeps modification times to the second on the shop's wall clock `now`: a product's `updatedAt`
  moves when it is created, its tags change or a product metafield is set or deleted; a
  variant's when it is created, productVariantsBulkUpdate changes it or a variant metafield is
  set or deleted; an inventory level's when any of its quantities changes (counts, orders,
  cancellations). Stock changes move neither the product's nor the variant's `updatedAt`: Shopify
  says a product's "can" move then, which a client cannot count on;
- answers every GraphQL request with `X-Shopify-API-Version`: a supported version (`versions`,
  2025-10 to 2026-10) answers as itself, an older one as the oldest supported (Shopify "falls
  forward"), one not yet released with 404; a document that selects a deprecated field (the
  schema marks them, e.g. `InventoryItem.variant`) gets `X-Shopify-API-Deprecated-Reason`;
- routes each order to fulfillment orders (one per location: where the line's stock was
  committed, else the first active location that fulfils online orders) that a merchant can
  hold, schedule or move (`hold`, `schedule`, `move_work`); cancelling an order cancels them;
  `fulfillmentOrders` needs a fulfillment order scope and hides closed ones unless asked;
- without `read_all_orders` shows only the last 60 days of orders, and of their fulfillment
  orders (each belongs to an `Order!`, so the fake assumes they follow the order's window);
- knows test orders, product statuses (ACTIVE, UNLISTED, DRAFT, ARCHIVED), gift cards and bundle
  parents (`requiresComponents`), and deletes products (`productDelete`);
- runs up to five bulk query operations at once per app (`bulk_concurrency`, Shopify's limit
  since 2026-01) and refuses more with LIMIT_REACHED; `bulkOperationCancel` stops one;
- refuses a revoked token (`revoke`) with 401, as after the app is uninstalled;
- filters connections by the `query:` argument in Shopify's search syntax (`search_fields` lists
  the fields per connection), and like Shopify drops a term on a field it does not filter on,
  reporting it in `extensions.search[].warnings` (code `invalid_field`) instead of failing.

Plans (`cost.PLANS`): Standard 100 points/s and 2,000 points, Advanced 200/4,000, Plus
1,000/20,000.

Nothing here reads files but the schema: the store lives in memory behind one lock, so the
sandbox's HTTP threads can share it. The adapter never imports this package (an import contract
says so); the demo and the sandbox load it through the platform's `demo_store` and `run_sandbox`.

By concern: `records` (the shop's records and global IDs), `store` (`Store`: keeping and changing
them as Shopify does), `search` (the `query:` search syntax), `views` and `root` (the GraphQL
types over the records, the schema), `mutations` (checking each mutation's input and applying
it), `bulk` (bulk operations and their JSONL), `cost` (query cost, plans and the leaky bucket),
`routes` (`FakeShopify`: the HTTP endpoints), `samples` (a sample catalogue as Shopify products
and orders) and `sandbox` (serving it on a loopback port).
"""

from __future__ import annotations

from .cost import PLANS, FakeClock, Plan
from .records import gid
from .routes import INVALID_TOKEN, FakeShopify, Fault
from .samples import RELEASE_DATE, RESTOCK_DATE, WAREHOUSE, generated_catalogue, seed
from .sandbox import run, serve
from .store import ALL_SCOPES

__all__ = [
    "ALL_SCOPES",
    "INVALID_TOKEN",
    "PLANS",
    "RELEASE_DATE",
    "RESTOCK_DATE",
    "WAREHOUSE",
    "FakeClock",
    "FakeShopify",
    "Fault",
    "Plan",
    "generated_catalogue",
    "gid",
    "run",
    "seed",
    "serve",
]
