"""Freshness benchmark: how long after an editor's change in the CMS a question can be answered
from it (the retrieval index holds it) and the delivery API serves it, per content source.

For Directus (a Flow posts each change to Charter), Strapi (a webhook), Wagtail (polled every
``--poll`` seconds: it has no webhooks) and, as the peer, Charter's own store (a publish through
the content actions), each round renames the demo's Team plan with a new word and measures, on one
monotonic clock from the moment the edit request returns:

* ``searchable``: until a BM25 search of the product-docs index finds the word (polled every 10 ms);
* ``delivered``: until ``GET /v1/entries/pricing-plan/<id>`` (cached before the edit) shows it;
* ``recorded``: the lag Charter itself recorded for the change (``retrieval_freshness.lag_ms``,
  from the vendor's own timestamp of the edit).

Each source runs in a real server (Charter under uvicorn on loopback, the vendors as the tests start
them); medians of ``--rounds`` rounds go to BENCHMARKS.md between ``<!-- bench:sources-freshness -->``
markers with the command and the load average. Run it as ``flock /tmp/charter-bench.lock
.venv/bin/python bench/sources/freshness.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.delivery.bench import write_section  # noqa: E402
from charter.auth.roles import SYSTEM  # noqa: E402
from charter.config import DEMO_DIR, load_settings  # noqa: E402
from charter.retrieval.tables import retrieval_freshness  # noqa: E402
from charter.runtime import Runtime  # noqa: E402
from charter.schemas.registry import Registry  # noqa: E402
from tests.admin.live import live_server  # noqa: E402
from tests.delivery_sources.conftest import LOCALES, WAGTAIL_TYPES, demo_rows  # noqa: E402
from tests.delivery_wagtail import site  # noqa: E402
from tests.services import free_port  # noqa: E402
from tests.vendors import directus, strapi  # noqa: E402

WORK = Path(__file__).parent / "work" / "freshness"
TEAM = "ff6dcf98-de74-5663-a8ef-2263d4d0f054"  # the demo's Team plan
SECRET = "bench-webhook-secret"

#: One source under test: Charter's settings, the Team plan's delivery id and index id, and how an
#: editor renames it.
Case = tuple[Any, str, str, Callable[[str], None]]


def project(name: str) -> Path:
    """A copy of the demo project (BM25 only: the embedding model is not what is measured)."""
    folder = WORK / f"project-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    contract = (folder / "retrieval.yaml").read_text(encoding="utf-8")
    contract = contract.replace("mode: hybrid ", "mode: bm25 ", 1).replace("dense: auto ", "dense: off ", 1)
    (folder / "retrieval.yaml").write_text(contract, encoding="utf-8")
    return folder


def settings(name: str, **options: Any) -> Any:
    folder = project(name)
    return load_settings(folder, database_url=f"sqlite:///{folder / 'charter.db'}", worker=False, **options)


@contextmanager
def charter(case_settings: Any, port: int | None = None) -> Iterator[tuple[Runtime, str]]:
    rt = Runtime.open(case_settings)
    try:
        with live_server(rt, port or free_port()) as url:
            yield rt, url
    finally:
        rt.close()


def measure(
    rt: Runtime, url: str, entry_id: str, index_id: str, rename: Callable[[str], None], word: str
) -> dict[str, float]:
    """One edit: the times until searchable and delivered (ms) and the lag Charter recorded."""
    assert rt.retrieval is not None
    path = f"{url}/v1/entries/pricing-plan/{entry_id}"
    httpx.get(path).raise_for_status()  # cached from now on
    with rt.read() as conn:
        last = conn.execute(sa.select(sa.func.max(retrieval_freshness.c.id))).scalar() or 0
    rename(f"Team {word}")
    start = time.monotonic()
    out: dict[str, float] = {}
    while time.monotonic() < start + 60 and len(out) < 2:
        now = (time.monotonic() - start) * 1000
        if "searchable" not in out:
            hits = rt.retrieval.search(word, "en", ["product-docs"], mode="bm25", k=5).hits
            if any(h.chunk.entry_id == index_id and word.lower() in h.chunk.text.lower() for h in hits):
                out["searchable"] = now
        if "delivered" not in out and word in httpx.get(path).json()["data"]["name"]:
            out["delivered"] = (time.monotonic() - start) * 1000
        time.sleep(0.01)
    if len(out) < 2:
        raise RuntimeError(f"{word} was not fresh after 60 s: {out}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with rt.read() as conn:
            lags = conn.execute(
                sa.select(retrieval_freshness.c.lag_ms).where(
                    retrieval_freshness.c.id > last, retrieval_freshness.c.entry_id == index_id
                )
            ).scalars().all()  # fmt: skip
        if lags:
            out["recorded"] = max(lags)
            break
        time.sleep(0.05)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--poll", type=float, default=1.0, help="Wagtail's poll_interval (seconds)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    rows, registry = demo_rows(), Registry.load(DEMO_DIR / "content-types")
    results: dict[str, list[dict[str, float]]] = {}
    with ExitStack() as stack:
        # -- the vendors, as the tests start and seed them
        d = stack.enter_context(directus.serve(WORK / "directus", free_port(), log=print))
        d_ids = directus.seed_demo(d, rows, registry, LOCALES)
        strapi_charter_port = free_port()
        hook = (f"http://127.0.0.1:{strapi_charter_port}/v1/sources/strapi/events", SECRET)
        s = stack.enter_context(strapi.serve(WORK / "strapi", free_port(), webhook=hook, log=print))
        s_ids = strapi.seed_demo(s, rows, registry, LOCALES)
        python = site.ensure_venv(print)
        db = site.migrated_database(python, WORK / "wagtail.sqlite3")
        w_ids = site.seed(python, db, site.seed_from_charter(rows, registry, LOCALES))
        wagtail_url = stack.enter_context(site.serve(python, db, free_port()))
        d_api, s_api = stack.enter_context(d.api()), stack.enter_context(s.api())

        def vendor_options(url: str, token: str, types: dict[str, Any]) -> dict[str, Any]:
            return {"url": url, "token": token, "types": types, "webhook_secret": SECRET}

        cases: dict[str, Any] = {}
        team = d_ids[TEAM]
        cases["directus (Flow)"] = (
            settings(
                "directus", source="directus", sources={"directus": vendor_options(d.url, d.token, directus.TYPES)}
            ),
            None,
            str(team),
            f"pricing-plan:{team}",
            lambda name: d_api.patch(f"/items/charter_plans/{team}", json={"name": name}).raise_for_status(),
        )
        doc = s_ids[TEAM]
        cases["strapi (webhook)"] = (
            settings("strapi", source="strapi", sources={"strapi": vendor_options(s.url, s.token, strapi.TYPES)}),
            strapi_charter_port,
            doc,
            doc,
            lambda name: strapi.localize(s_api, "plans", doc, "en", {"name": name}),
        )
        page = w_ids[TEAM]["en"]
        code = (
            "from wagtail.models import Page\np = Page.objects.get(id={id}).specific\n"
            "p.title = {name!r}\np.save_revision().publish()"
        )
        cases[f"wagtail (polled every {args.poll:g} s)"] = (
            settings(
                "wagtail",
                source="wagtail",
                wagtail_url=wagtail_url,
                wagtail={**WAGTAIL_TYPES, "poll_interval": args.poll},
            ),
            None,
            str(page),
            str(page),
            lambda name: site._manage(python, db, "shell", "-c", code.format(id=page, name=name)),
        )

        def publish_embedded(rt: Runtime) -> Callable[[str], None]:
            from charter.content import store
            from charter.content.actions.publish import publish_entry
            from charter.content.actions.update import update_entry

            def rename(name: str) -> None:
                with rt.read() as conn:
                    entry = store.get_entry(conn, TEAM)
                    found = store.published_by_id(conn, "pricing-plan", TEAM)
                assert found is not None
                data = {**found[1].data, "en": {**found[1].data["en"], "name": name}}
                update_entry(rt, SYSTEM, TEAM, data, if_match=entry.etag)
                publish_entry(rt, SYSTEM, TEAM)

            return rename

        cases["embedded (peer: publish)"] = (settings("embedded"), None, TEAM, TEAM, None)

        for label, (case_settings, port, entry_id, index_id, rename) in cases.items():
            with charter(case_settings, port) as (rt, url):
                if rename is None:
                    from charter.demo import load_demo_content

                    load_demo_content(rt)
                    assert rt.retrieval is not None
                    rt.retrieval.reconcile()
                    rename = publish_embedded(rt)
                flow = None
                if label.startswith("directus"):
                    flow = directus.install_flow(d, url, SECRET, ["charter_plans", "charter_pages"])
                if label.startswith("wagtail"):
                    time.sleep(args.poll * 2)  # the baseline listing
                try:
                    results[label] = []
                    for n in range(args.rounds):
                        results[label].append(
                            measure(rt, url, entry_id, index_id, rename, f"Fresh{n}x{int(time.time())}")
                        )
                        print(label, results[label][-1], flush=True)
                finally:
                    if flow:
                        d_api.delete(f"/flows/{flow}")
                    rename("Team")
    load = os.getloadavg()
    section = render(results, args, load)
    print(section)
    if not args.no_write:
        write_section(section, "sources-freshness")


def render(
    results: dict[str, list[dict[str, float]]], args: argparse.Namespace, load: tuple[float, float, float]
) -> str:
    lines = [
        "### Freshness: an editor's change until it is searchable and delivered (`bench/sources/freshness.py`)",
        "",
        "The demo's Team plan renamed in the source (Directus and Strapi REST API, Wagtail "
        "`save_revision().publish()`, the embedded store's publish action), "
        f"{args.rounds} rounds per source, medians (min-max). *searchable*: until a BM25 search of product-docs finds "
        "the new word (polled every 10 ms); *delivered*: until `GET /v1/entries/pricing-plan/<id>`, cached before "
        "the edit, shows it (the GET itself included); both from the moment the edit request returned. "
        "*recorded*: the lag Charter recorded "
        "(`charter index status`), from the vendor's own timestamp of the edit. Produced by "
        "`flock /tmp/charter-bench.lock .venv/bin/python bench/sources/freshness.py "
        f"--rounds {args.rounds} --poll {args.poll:g}`. "
        f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on 2 cores.",
        "",
        "| Source | searchable (ms) | delivered (ms) | recorded lag (ms) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, rounds in results.items():
        cells = []
        for key in ("searchable", "delivered", "recorded"):
            values = [r[key] for r in rounds if key in r]
            cells.append(f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})" if values else "n/a")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines += [
        "",
        "Read *recorded* to compare sources: it runs from each CMS's own timestamp of the edit to the moment "
        "Charter's index held it. Wagtail's edit runs in a `manage.py shell` process that exits seconds after "
        "its publish, so its *searchable* and *delivered* (counted from that exit) are near zero and say nothing; "
        "its *recorded* lag includes up to one poll interval. Strapi sends `entry.update` and then "
        "`entry.publish` for one published edit: the first purges the delivery cache, the second carries the "
        "published text to the index, hence *delivered* before *searchable*.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
