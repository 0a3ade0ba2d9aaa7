"""Seeding a sandbox as a new user does: the README's catalogue file, the README's recipe to place
an order, and the one-line errors for a bad argument or a busy port."""

from __future__ import annotations

import re
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake.samples import seed as shopify_seed
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, seed, serve
from stockstatus.core import catalogue
from stockstatus.core.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_USAGE, main

README = Path(__file__).resolve().parents[1] / "README.md"
TODAY = date(2026, 12, 7)


def readme_block(after: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(rf"```{language}\n(.*?)```", text[start:], re.DOTALL)
    assert match, f"README has a {language} block after {after!r}"
    return match.group(1)


@pytest.fixture
def readme_catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(readme_block("**Seed a sandbox with your own products**", "toml"), encoding="utf-8")
    return path


def test_the_readme_catalogue_seeds_products_variants_and_orders(readme_catalogue):
    seeded = catalogue.from_file(readme_catalogue, TODAY)
    kettle, beans, grinder = seeded.products
    assert (kettle.sku, kettle.stock, kettle.restock_date) == ("KTL-1", -2, TODAY + timedelta(days=10))
    assert [(v.sku, v.option, v.stock) for v in beans.variants] == [("BEAN-250", "250 g", 4)]
    assert grinder.tags == ("discontinued",)
    [order] = seeded.orders
    assert order.lines == (("KTL-1", 2),) and order.email == "ana@example.com"

    # Both platforms' sandboxes take it (the recipe test below reads the WooCommerce one back).
    seed(FakeWooCommerce(base_url="http://127.0.0.1:1"), seeded)
    shopify_seed(FakeShopify("seeded.myshopify.com"), seeded)


def test_the_readme_recipe_places_an_order_in_the_woocommerce_sandbox(readme_catalogue):
    fake = FakeWooCommerce(base_url="http://127.0.0.1:1")
    server = serve(fake)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        fake.base_url = url
        seed(fake, catalogue.from_file(readme_catalogue, TODAY))
        recipe = readme_block("<!-- place-an-order -->", "python")
        recipe = recipe.replace('"http://127.0.0.1:8080"', repr(url))
        recipe = recipe.replace('"ck_..."', repr(fake.consumer_key)).replace('"cs_..."', repr(fake.consumer_secret))
        printed: list[str] = []
        exec(
            recipe, {"print": lambda *a: printed.append(" ".join(map(str, a)))}
        )  # the README's own recipe, run as written
        [line] = printed
        order_id = int(line.removeprefix("order "))
        placed = fake.get_order(order_id)
        assert placed["status"] == "processing"
        assert [(item["sku"], item["quantity"]) for item in placed["line_items"]] == [("KTL-1", 1)]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[products]]\nname = "Kettle"\nstock = "lots"\n', "products[0].stock"),
        ('[[products]]\nsku = "A"\n', "products[0].name"),
        ('[[products]]\nname = "A"\nsku = "A"\nrestock = 3\n', "products[0].restock: unknown key"),
        ('[[products]]\nname = "A"\nsku = "A"\nrestock_date = "soon"\n', "products[0].restock_date"),
        ('[[products]]\nname = "A"\nsku = "A"\n[[orders]]\nlines = { "B" = 1 }\n', "orders[0].lines: SKU 'B'"),
        ('[[products]]\nname = "A"\nsku = "A"\n[[orders]]\nlines = { "A" = 0 }\n', "orders[0].lines.A"),
        ("[[products]\n", "not a TOML file"),
    ],
)
def test_a_bad_catalogue_file_is_one_line_naming_the_file_and_key(tmp_path, capsys, text, named):
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["sandbox", "woocommerce", "--port", "0", "--catalogue", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_CONFIG
    assert str(path) in err and named in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--products", "-5"], "--products must be 0 or more"), (["--port", "70000"], "--port must be from 0 to 65535")],
)
def test_a_bad_sandbox_argument_is_one_line(capsys, args, named):
    code = main(["sandbox", "woocommerce", *args])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and named in err and "Traceback" not in err


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
def test_a_busy_port_is_one_line_saying_what_to_do(capsys, platform):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["sandbox", platform, "--port", str(port), "--products", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILED
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
