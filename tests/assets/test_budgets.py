"""Asset budgets (budgets.yaml ``assets:``) measure the library's images as a running Charter
delivers them: one result per asset, over or within ``max_bytes``."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.assets.actions import upload_asset
from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.metrics.budgets.check import check_budgets
from charter.metrics.budgets.config import BudgetError, load_budgets
from charter.runtime import Runtime
from tests.admin.live import live_server
from tests.assets.images import image_bytes
from tests.services import free_port

BUDGETS = """
assets:
  - name: heroes
    width: 640
    format: webp
    max_bytes: 40 KB
  - name: originals
    media_types: [image/png]
    max_bytes: 1 KB
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_asset_budgets_measure_delivered_images(runtime: Runtime, tmp_path: Path) -> None:
    upload_asset(runtime, SYSTEM, image_bytes("JPEG", (1600, 1000)), "hero.jpg", {"alt": {"en": "Hero"}})
    upload_asset(runtime, SYSTEM, image_bytes("PNG", (900, 900)), "big.png", {"alt": {"en": "Big"}})
    token = create_token(runtime, SYSTEM, "budgets", "viewer")[0]
    path = tmp_path / "budgets.yaml"
    path.write_text(BUDGETS)
    budgets = load_budgets(path)
    with live_server(runtime, free_port()) as base:
        report = check_budgets(budgets, api=base, token=token)
        skipped = check_budgets(budgets, api=base)
    got = {(r.name, r.status) for r in report.results}
    assert got == {("heroes: hero.jpg", "ok"), ("heroes: big.png", "ok"), ("originals: big.png", "over")}, got
    hero = next(r for r in report.results if r.name == "heroes: hero.jpg")
    assert hero.measured and hero.measured < 40_000 and "image/webp at 640 px" in hero.detail
    assert {r.status for r in skipped.results} == {"skipped"}


def test_asset_budgets_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text("assets:\n  - width: huge\n    format: gif\n    colour: red\n")
    with pytest.raises(BudgetError) as caught:
        load_budgets(path)
    pointers = {e.pointer for e in caught.value.errors}
    assert {"/assets/0/width", "/assets/0/format", "/assets/0/max_bytes"} <= pointers, pointers
