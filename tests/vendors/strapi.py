"""A real Strapi 5 on loopback with SQLite (the project in ``tests/vendors/strapi/``: a page and a
plan collection type with i18n and Draft & Publish, the admin panel not served, a webhook to
Charter registered at start-up), and the REST calls that seed it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.vendors import VendorUnavailable, ensure

#: How the demo's types read from the seeded collection types (what a user writes in charter.toml).
TYPES = {
    "page": {"collection": "pages"},
    "pricing-plan": {"collection": "plans", "fields": {"id": "plan_id"}},
}


@dataclass
class Strapi:
    url: str
    token: str  #: a full-access API token (Charter reads with it; the tests seed with it)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


@contextmanager
def serve(data: Path, port: int, *, webhook: tuple[str, str] | None = None, log: Any = None) -> Iterator[Strapi]:
    """Start the Strapi project on 127.0.0.1:``port`` with a fresh SQLite database in ``data``;
    ``webhook`` (url, secret) registers a webhook to Charter on every entry event."""
    project = ensure("strapi", log=log)
    (project / "public" / "uploads").mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    token_file = data / "token"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NODE_ENV": "production",
        "DATABASE_FILENAME": str(data / "strapi.sqlite3"),
        "CHARTER_TOKEN_FILE": str(token_file),
        "STRAPI_TELEMETRY_DISABLED": "true",
        "STRAPI_DISABLE_UPDATE_NOTIFICATION": "true",
        "NODE_OPTIONS": "--max-old-space-size=1024",
    }
    if webhook:
        env.update({"CHARTER_WEBHOOK_URL": webhook[0], "CHARTER_WEBHOOK_SECRET": webhook[1]})
    exe = project / "node_modules" / ".bin" / "strapi"
    proc = subprocess.Popen(
        [str(exe), "start"], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(url + "/_health", timeout=2).status_code == 204 and token_file.exists():
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise VendorUnavailable(f"strapi did not start on {url}: {err[-2000:]}")
            time.sleep(0.3)
        yield Strapi(url, token_file.read_text().strip())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def create(api: httpx.Client, collection: str, data: dict[str, Any], locale: str = "en") -> str:
    """Create and publish a document in ``locale``; its documentId."""
    r = api.post(f"/api/{collection}", params={"status": "published", "locale": locale}, json={"data": data})
    r.raise_for_status()
    return str(r.json()["data"]["documentId"])


def localize(api: httpx.Client, collection: str, document_id: str, locale: str, data: dict[str, Any]) -> None:
    """Create (or replace) and publish the ``locale`` version of a document."""
    r = api.put(
        f"/api/{collection}/{document_id}", params={"status": "published", "locale": locale}, json={"data": data}
    )
    r.raise_for_status()


def seed_demo(strapi: Strapi, rows: list[dict[str, Any]], registry: Any, locales: tuple[str, ...]) -> dict[str, str]:
    """The demo's published pages and plans as Strapi documents (a localisation per locale with
    values of its own, holding the localised fields); ``{charter entry id: documentId}``."""
    ids: dict[str, str] = {}
    with strapi.api() as api:
        for kind, collection in (("pricing-plan", "plans"), ("page", "pages")):
            ct = registry.get(kind)
            for row in (r for r in rows if r["type"] == kind):
                docs = {
                    code: ct.resolve(row["data"], code)[0]
                    for code in locales
                    if code == ct.locales.default or row["data"].get(code)
                }
                ids[row["id"]] = create(api, collection, _document(kind, docs.pop(ct.locales.default), ids))
                for code, doc in docs.items():
                    localized = {k: v for k, v in doc.items() if k in ct.localized}
                    localize(api, collection, ids[row["id"]], code, _document(kind, localized, ids))
    return ids


def _document(kind: str, doc: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    if kind == "pricing-plan":
        return {("plan_id" if k == "id" else k): v for k, v in doc.items()}
    out = dict(doc)
    if "sections" in doc:
        out["sections"] = [
            {**s, "plans": [ids[p] for p in s["plans"]]} if s.get("intent") == "pricing-table" else s
            for s in doc["sections"]
        ]
    return out
