"""An order status the store does not have: the store says so (HTTP 400), and the connector names
the config key, both in `connector check` and in a pass, instead of a bare HTTP error."""

from __future__ import annotations

from tests.test_end_to_end import cli
from tests.test_explain import configure, shop  # noqa: F401  (shop is a fixture)


def with_statuses(shop, tmp_path, monkeypatch, statuses: str):  # noqa: F811
    shop.fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=5)
    config = configure(shop, tmp_path, monkeypatch)
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        'secret_env = "EXPLAIN_WC_SECRET"\n', f'secret_env = "EXPLAIN_WC_SECRET"\norder_statuses = {statuses}\n'
    )
    # The sandbox runs in UTC: so does this config, so that `check` has nothing else to report.
    text = text.replace('timezone = "Europe/Berlin"', 'timezone = "UTC"')
    config.write_text(text, encoding="utf-8")
    return config


def test_a_status_the_store_lacks_is_named_by_its_key_in_a_pass_and_in_check(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    config = with_statuses(shop, tmp_path, monkeypatch, '["processing", "paid"]')

    result = cli(capsys, ["--config", str(config), "resync", "--dry-run"])
    assert result.code == 1
    said = result.out + result.err
    assert "order_statuses = ['processing', 'paid']: the store refused them" in said
    assert "on-hold" in said, "the statuses WooCommerce has are listed"
    assert shop.fake.write_requests == []

    result = cli(capsys, ["--config", str(config), "check"])
    assert result.code != 0
    assert "order_statuses" in result.out + result.err


def test_the_store_own_statuses_pass(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    config = with_statuses(shop, tmp_path, monkeypatch, '["processing", "on-hold", "pending"]')
    assert cli(capsys, ["--config", str(config), "resync", "--dry-run"]).code == 0
    assert cli(capsys, ["--config", str(config), "check"]).code == 0
