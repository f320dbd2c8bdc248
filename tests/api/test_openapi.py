"""The OpenAPI document is a contract: changes to it are a reviewed diff against the snapshot.

Regenerate after an intended change: ``UPDATE_SNAPSHOTS=1 pytest tests/api/test_openapi.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.api.routes import api_routes

SNAPSHOT = Path(__file__).parent / "openapi.snapshot.json"


def test_openapi_matches_snapshot(app) -> None:  # type: ignore[no-untyped-def]
    current = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), "no snapshot yet: run UPDATE_SNAPSHOTS=1 pytest tests/api/test_openapi.py"
    assert json.loads(current) == json.loads(SNAPSHOT.read_text()), (
        "the OpenAPI document changed; review and run UPDATE_SNAPSHOTS=1 pytest tests/api/test_openapi.py"
    )


def test_every_route_has_a_stable_operation_id(app) -> None:  # type: ignore[no-untyped-def]
    # The JSON API (the admin's HTML pages are another domain's: see its own tests).
    routes = [
        r for path, r in api_routes(app) if path.startswith("/v1/") or path in ("/", "/healthz", "/readyz", "/metrics")
    ]
    assert len(routes) > 10
    ids = [r.operation_id for r in routes]
    assert None not in ids, [r.path for r in routes if r.operation_id is None]
    assert len(ids) == len(set(ids))
