"""Asset budgets: the media library's images as a running Charter delivers them.

Each asset (listed by ``GET /v1/manage/assets``, which needs ``--token``) is fetched once at the
budget's width and format (``GET /v1/assets/{id}/{name}?v=…&w=…&fm=…``, a configured size, so
unsigned) and its bytes compared with ``max_bytes``: one result per asset, named after its file.
SVG and other unscaled assets count as they are. Without ``--api`` or ``--token`` the budget is
skipped, and says so.
"""

from __future__ import annotations

from typing import Any

from charter.exceptions import BadRequest
from charter.metrics.budgets.config import AssetBudget
from charter.metrics.budgets.results import BudgetResult

#: Assets read at most (pages of 200).
MAX_ASSETS = 2000


def measure_assets(budgets: list[AssetBudget], api: str | None, token: str | None) -> list[BudgetResult]:
    if api is None or token is None:
        why = "no --api given" if api is None else "no --token given (listing assets needs a reader's token)"
        return [BudgetResult("asset", b.name, "bytes", b.max_bytes, None, "skipped", why) for b in budgets]
    import httpx

    from charter import egress

    base = api.rstrip("/")
    try:  # the operator names --api, so its host is allowed; nothing else internal is
        client = egress.client(egress.Policy().trusting(base), base_url=base, timeout=60)
    except egress.Refused as exc:
        raise BadRequest(f"--api {base[:200]!r} is refused: {exc}") from None
    results: list[BudgetResult] = []
    with client:
        try:
            assets = _list(client, token)
        except httpx.HTTPError as exc:
            return [
                BudgetResult("asset", b.name, "bytes", b.max_bytes, None, "error", f"listing assets: {exc}")
                for b in budgets
            ]
        for b in budgets:
            chosen = [a for a in assets if not b.media_types or a["media_type"] in b.media_types]
            if not chosen:
                results.append(BudgetResult("asset", b.name, "bytes", b.max_bytes, None, "skipped", "no asset matches"))
            for asset in chosen:
                results.append(_one(client, b, asset))
    return results


def _list(client: Any, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < MAX_ASSETS:
        r = client.get("/v1/manage/assets", params={"limit": 200, "offset": len(found)},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        r.raise_for_status()
        page = r.json()
        found += page
        if len(page) < 200:
            break
    return found


def _one(client: Any, b: AssetBudget, asset: dict[str, Any]) -> BudgetResult:
    label = f"{b.name}: {asset['filename']}"
    params: dict[str, Any] = {"v": asset["version"]}
    scalable = asset["media_type"] not in ("image/svg+xml",)
    if scalable and b.width:
        params["w"] = b.width
    if scalable and b.format:
        params["fm"] = b.format
    try:
        r = client.get(asset["url"], params=params)
    except Exception as exc:  # one asset's failure is its result, not the run's
        return BudgetResult("asset", label, "bytes", b.max_bytes, None, "error", f"{type(exc).__name__}: {exc}")
    if r.status_code != 200:
        return BudgetResult(
            "asset", label, "bytes", b.max_bytes, None, "error", f"HTTP {r.status_code}: {r.text[:200]}"
        )
    size = len(r.content)
    shown = f"{r.headers.get('content-type', '?')}" + (f" at {b.width} px" if "w" in params else " (original)")
    return BudgetResult(
        "asset", label, "bytes", b.max_bytes, size, "ok" if size <= b.max_bytes else "over", shown, {"id": asset["id"]}
    )
