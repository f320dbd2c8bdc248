"""A real Directus on loopback with SQLite: bootstrap, start, and a small admin client to seed it
through its REST API (collections, fields, items, flows)."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.vendors import VendorUnavailable, ensure

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "charter-test-password"


@dataclass
class Directus:
    url: str
    token: str  #: the admin's static token (Charter reads with it; the tests seed with it)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


def _env(data: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DB_CLIENT": "sqlite3",
        "DB_FILENAME": str(data / "directus.sqlite3"),
        "KEY": "charter-test-key",
        "SECRET": "charter-test-secret",
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "STORAGE_LOCAL_ROOT": str(data / "uploads"),
        "EXTENSIONS_PATH": str(data / "extensions"),
        "TELEMETRY": "false",
        "LOG_LEVEL": "warn",
        "CACHE_ENABLED": "false",
        "RATE_LIMITER_ENABLED": "false",
        "WEBSOCKETS_ENABLED": "false",
        "ACCESS_TOKEN_TTL": "1d",
        # Flows may call Charter on loopback (the default list refuses every local address).
        "IMPORT_IP_DENY_LIST": "169.254.169.254",
        "NODE_OPTIONS": "--max-old-space-size=1024",
    }


@contextmanager
def serve(data: Path, port: int, *, log: Any = None) -> Iterator[Directus]:
    """Bootstrap a fresh Directus project in ``data`` and run it on 127.0.0.1:``port``."""
    project = ensure("directus", log=log)
    exe = project / "node_modules" / ".bin" / "directus"
    data.mkdir(parents=True, exist_ok=True)
    (data / "uploads").mkdir(exist_ok=True)
    (data / "extensions").mkdir(exist_ok=True)
    env = _env(data, port)
    boot = subprocess.run([str(exe), "bootstrap"], cwd=data, env=env, capture_output=True, text=True, timeout=600)
    if boot.returncode != 0:
        raise VendorUnavailable(f"directus bootstrap failed: {(boot.stderr or boot.stdout)[-1500:]}")
    proc = subprocess.Popen(
        [str(exe), "start"], cwd=data, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(url + "/server/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise VendorUnavailable(f"directus did not start on {url}: {err[-2000:]}")
            time.sleep(0.3)
        login = httpx.post(url + "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=60)
        login.raise_for_status()
        access = login.json()["data"]["access_token"]
        token = secrets.token_urlsafe(24)
        httpx.patch(
            url + "/users/me", json={"token": token}, headers={"Authorization": f"Bearer {access}"}, timeout=60
        ).raise_for_status()
        yield Directus(url, token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- seeding ------------------------------------------------------------------------------------

COMMON_FIELDS: list[dict[str, Any]] = [
    {"field": "status", "type": "string", "schema": {"default_value": "draft"}},
    {"field": "locale", "type": "string"},
    {"field": "translation_of", "type": "integer"},
    {"field": "date_created", "type": "timestamp", "meta": {"special": ["date-created"]}},
    {"field": "date_updated", "type": "timestamp", "meta": {"special": ["date-updated"]}},
]
PAGE_FIELDS: list[dict[str, Any]] = [
    {"field": "slug", "type": "string"},
    {"field": "title", "type": "string"},
    {"field": "description", "type": "text"},
    {"field": "sections", "type": "json", "meta": {"special": ["cast-json"]}},
]
PLAN_FIELDS: list[dict[str, Any]] = [
    {"field": "plan_id", "type": "string"},
    {"field": "name", "type": "string"},
    {"field": "price", "type": "float"},
    {"field": "currency", "type": "string"},
    {"field": "features", "type": "json", "meta": {"special": ["cast-json"]}},
]
#: How the demo's types read from the seeded collections (what a user writes in charter.toml).
TYPES = {
    "page": {"collection": "charter_pages"},
    "pricing-plan": {"collection": "charter_plans", "fields": {"id": "plan_id"}},
}


def create_collection(api: httpx.Client, name: str, fields: list[dict[str, Any]]) -> None:
    pk = {
        "field": "id",
        "type": "integer",
        "meta": {"hidden": True, "readonly": True},
        "schema": {"is_primary_key": True, "has_auto_increment": True},
    }
    r = api.post("/collections", json={"collection": name, "meta": {}, "schema": {}, "fields": [pk, *fields]})
    r.raise_for_status()


def create_items(api: httpx.Client, collection: str, items: list[dict[str, Any]]) -> list[int]:
    r = api.post(f"/items/{collection}", json=items)
    r.raise_for_status()
    data = r.json()["data"]
    return [int(row["id"]) for row in (data if isinstance(data, list) else [data])]


def seed_demo(
    directus: Directus, rows: list[dict[str, Any]], registry: Any, locales: tuple[str, ...]
) -> dict[str, int]:
    """The demo's published pages and plans as Directus items (a translation per locale with values
    of its own, holding the resolved document); ``{charter entry id: directus id}``."""
    page_ct, plan_ct = registry.get("page"), registry.get("pricing-plan")
    ids: dict[str, int] = {}
    with directus.api() as api:
        create_collection(api, "charter_pages", COMMON_FIELDS + PAGE_FIELDS)
        create_collection(api, "charter_plans", COMMON_FIELDS + PLAN_FIELDS)
        for kind, ct, collection in (
            ("pricing-plan", plan_ct, "charter_plans"),
            ("page", page_ct, "charter_pages"),
        ):
            for row in (r for r in rows if r["type"] == kind):
                docs = {
                    code: ct.resolve(row["data"], code)[0]
                    for code in locales
                    if code == ct.locales.default or row["data"].get(code)
                }
                default = docs.pop(ct.locales.default)
                [ids[row["id"]]] = create_items(api, collection, [_item(kind, default, ids, "en")])
                if docs:
                    create_items(
                        api,
                        collection,
                        [
                            {**_item(kind, doc, ids, code), "translation_of": ids[row["id"]]}
                            for code, doc in docs.items()
                        ],
                    )
    return ids


def _item(kind: str, doc: dict[str, Any], ids: dict[str, int], locale: str) -> dict[str, Any]:
    item: dict[str, Any] = {"status": "published", "locale": locale}
    if kind == "pricing-plan":
        item.update({("plan_id" if k == "id" else k): v for k, v in doc.items()})
        return item
    item.update(doc)
    if "sections" in doc:
        item["sections"] = [
            {**s, "plans": [str(ids[p]) for p in s["plans"]]} if s.get("intent") == "pricing-table" else s
            for s in doc["sections"]
        ]
    return item


def install_flow(directus: Directus, charter_url: str, secret: str, collections: list[str]) -> str:
    """A Directus Flow that posts every item create/update/delete in ``collections`` to Charter's
    ``POST /v1/sources/directus/events`` (docs/sources.md shows the same calls); its id."""
    with directus.api() as api:
        flow = api.post(
            "/flows",
            json={
                "name": "Charter",
                "status": "active",
                "trigger": "event",
                "accountability": "all",
                "options": {
                    "type": "action",
                    "scope": ["items.create", "items.update", "items.delete"],
                    "collections": collections,
                },
            },
        )
        flow.raise_for_status()
        flow_id = flow.json()["data"]["id"]
        operation = api.post(
            "/operations",
            json={
                "flow": flow_id,
                "name": "Notify Charter",
                "key": "notify_charter",
                "type": "request",
                "position_x": 19,
                "position_y": 1,
                "options": {
                    "method": "POST",
                    "url": f"{charter_url}/v1/sources/directus/events",
                    "headers": [
                        {"header": "Charter-Source-Secret", "value": secret},
                        {"header": "Content-Type", "value": "application/json"},
                    ],
                    "body": "{{$trigger}}",
                },
            },
        )
        operation.raise_for_status()
        api.patch(f"/flows/{flow_id}", json={"operation": operation.json()["data"]["id"]}).raise_for_status()
    return str(flow_id)
