"""Page budgets: Core Web Vitals and page weight of real pages, measured in headless Chromium.

Each run opens the page in a fresh browser context (empty cache, no cookies) with the budget's
viewport and throttling applied through the DevTools protocol (``Network.emulateNetworkConditions``
for latency and throughput, ``Emulation.setCPUThrottlingRate`` for the CPU), and injects Google's
``web-vitals`` library (vendored from npm in ``vendor/``, never fetched from a CDN) before any page
script runs. After the load event and a quiet network it presses Tab once (a keyboard interaction:
lab INP, from the ``first-input`` and event-timing entries) and clicks the page's top-left corner
(a pointer interaction, where no link is), waits a second for the page to settle, ends the visit
the way web-vitals' own tests do (``visibilitychange`` to hidden, so every metric reports its final
value), and reads:

- **LCP** and **CLS** from ``web-vitals`` (``reportAllChanges``: the values at the end of the run);
- **INP** from ``web-vitals`` for those synthetic interactions (a lab value: field INP is the
  worst interaction of a whole visit);
- **TBT**, the lab proxy for responsiveness: the sum of every long task's time over 50 ms between
  first contentful paint and the end of the run (``longtask`` entries);
- **transferred bytes** by resource type (Chromium's ``encodedDataLength``: headers and the body as
  sent, compressed), and their total;
- **image oversize**: for every visible ``<img>``, its natural pixels over the device pixels it
  covers (CSS size times the device scale factor); the worst image is named.

With ``runs`` > 1 each figure is the median of the runs. A page that does not load (DNS, refused
connection, timeout, an HTTP error status) fails every budget of the page, naming the URL and the error.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from charter.metrics.budgets.config import PageBudget
from charter.metrics.budgets.results import BudgetResult
from charter.metrics.stats import median

VENDOR = Path(__file__).parent / "vendor"
WEB_VITALS = VENDOR / "web-vitals.attribution.iife.js"
#: Where Chromium is looked for when neither --chromium nor $CHARTER_CHROMIUM names it (Debian's
#: package first); else Playwright's own browser, when installed (``playwright install chromium``).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTLE_SECONDS = 1.0

COLLECTOR = """
(() => {
  const out = { lcp: null, cls: 0, inp: null, fcp: null, lcpElement: null, longTasks: [] };
  window.__charterVitals = out;
  const v = webVitals; // the vendored IIFE above, in the same script
  v.onLCP((m) => { out.lcp = m.value; out.lcpElement = m.attribution && m.attribution.target || null; },
          { reportAllChanges: true });
  v.onCLS((m) => { out.cls = m.value; }, { reportAllChanges: true });
  v.onINP((m) => { out.inp = m.value; }, { reportAllChanges: true, durationThreshold: 0 });
  v.onFCP((m) => { out.fcp = m.value; });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) out.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
})();
"""

#: Ends the visit as web-vitals' own tests do (a page going hidden): every metric reports its
#: final value, whether or not the browser found an idle moment under CPU throttling.
FINALIZE = """
() => {
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}
"""

READ = """
() => {
  const out = window.__charterVitals || {};
  const fcp = out.fcp || 0;
  let tbt = 0;
  for (const [start, duration] of out.longTasks || []) {
    if (start + duration > fcp && duration > 50) tbt += duration - 50;
  }
  const dpr = window.devicePixelRatio || 1;
  const images = [];
  for (const img of document.images) {
    const r = img.getBoundingClientRect();
    if (!img.complete || !img.naturalWidth || r.width < 1 || r.height < 1) continue;
    const shown = r.width * dpr * r.height * dpr;
    images.push({ src: img.currentSrc || img.src, natural: [img.naturalWidth, img.naturalHeight],
                  displayed: [Math.round(r.width), Math.round(r.height)],
                  ratio: (img.naturalWidth * img.naturalHeight) / shown });
  }
  return { lcp: out.lcp, cls: out.cls, inp: out.inp, tbt, lcpElement: out.lcpElement, images, dpr };
}
"""


class PageUnavailable(Exception):
    """A page that did not load: the message names the URL and the error."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium to launch: ``explicit``, ``$CHARTER_CHROMIUM``, a system Chromium, or None
    (Playwright's own browser)."""
    for candidate in (explicit, os.environ.get("CHARTER_CHROMIUM"), *CANDIDATES):
        if not candidate:
            continue
        found = shutil.which(candidate) or (candidate if os.path.isfile(candidate) else None)
        if found:
            return found
        if candidate in (explicit, os.environ.get("CHARTER_CHROMIUM")):
            raise PageUnavailable(f"Chromium {candidate!r} not found")
    return None


def page_url(budget: PageBudget, base: str | None) -> str | None:
    """The URL ``budget`` measures: its own when absolute, else joined to ``base`` (None: no base)."""
    if budget.url.startswith(("http://", "https://")):
        return budget.url
    if base is None:
        return None
    return urljoin(base.rstrip("/") + "/", budget.url.lstrip("/"))


def measure_pages(budgets: list[PageBudget], base: str | None, chromium: str | None = None) -> list[BudgetResult]:
    """One result per budgeted figure of every page (``kind`` ``page``, named ``<page>: <figure>``)."""
    results: list[BudgetResult] = []
    todo: list[tuple[PageBudget, str]] = []
    for b in budgets:
        url = page_url(b, base)
        if url is None:
            results += _all(b, "skipped", f"{b.url} is a path and no --url was given")
        else:
            todo.append((b, url))
    if not todo:
        return results
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        for b, _ in todo:
            results += _all(b, "error", "page budgets need Playwright: pip install 'charter[browser]'")
        return results
    try:
        executable = find_chromium(chromium)
    except PageUnavailable as exc:
        for b, _ in todo:
            results += _all(b, "error", str(exc))
        return results
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        except Exception as exc:
            for b, _ in todo:
                results += _all(b, "error", f"Chromium did not start: {str(exc).splitlines()[0][:300]}")
            return results
        try:
            for b, url in todo:
                results += _measure(browser, b, url)
        finally:
            browser.close()
    return results


def _all(b: PageBudget, status: Any, detail: str) -> list[BudgetResult]:
    return [
        BudgetResult("page", f"{b.name}: {label}", unit, limit, None, status, detail)
        for label, unit, limit in figures(b)
    ]


def figures(b: PageBudget) -> list[tuple[str, str, float]]:
    """(label, unit, budget) of every figure ``b`` sets, in report order."""
    out: list[tuple[str, str, float]] = []
    for label, unit, value in (
        ("LCP", "ms", b.lcp_ms),
        ("CLS", "score", b.cls),
        ("TBT", "ms", b.tbt_ms),
        ("INP", "ms", b.inp_ms),
    ):
        if value is not None:
            out.append((label, unit, value))
    out += [(f"{kind} bytes", "bytes", float(size)) for kind, size in b.bytes.items()]
    if b.max_image_oversize is not None:
        out.append(("image oversize", "ratio", b.max_image_oversize))
    return out


def _one_run(browser: Any, b: PageBudget, url: str) -> dict[str, Any]:
    vp = b.viewport
    context = browser.new_context(
        viewport={"width": int(vp["width"]), "height": int(vp["height"])},
        device_scale_factor=vp["device_scale_factor"],
        service_workers="block",
    )
    try:
        page = context.new_page()
        page.set_default_timeout(b.timeout_seconds * 1000)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        net = b.network
        if net.get("latency_ms") or net.get("download_kbps") or net.get("upload_kbps"):
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": net.get("latency_ms", 0),
                    # kbit/s -> bytes/s; -1 disables a direction
                    "downloadThroughput": net["download_kbps"] * 1024 / 8 if net.get("download_kbps") else -1,
                    "uploadThroughput": net["upload_kbps"] * 1024 / 8 if net.get("upload_kbps") else -1,
                },
            )
        if net.get("cpu_slowdown", 1) > 1:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": net["cpu_slowdown"]})
        types: dict[str, str] = {}
        transferred: dict[str, float] = {}

        def on_response(event: dict[str, Any]) -> None:
            types[event["requestId"]] = str(event.get("type", "Other")).lower()

        def on_finished(event: dict[str, Any]) -> None:
            kind = types.get(event["requestId"], "other")
            kind = {"xhr": "fetch", "eventsource": "fetch"}.get(kind, kind)
            if kind not in ("document", "script", "stylesheet", "image", "font", "fetch", "media"):
                kind = "other"
            transferred[kind] = transferred.get(kind, 0) + float(event.get("encodedDataLength", 0))

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        page.add_init_script(script=WEB_VITALS.read_text(encoding="utf-8") + COLLECTOR)
        try:
            response = page.goto(url, wait_until="load")
        except Exception as exc:
            raise PageUnavailable(f"{url}: {str(exc).splitlines()[0][:300]}") from None
        if response is None or response.status >= 400:
            status = "no response" if response is None else f"HTTP {response.status}"
            raise PageUnavailable(f"{url}: {status}")
        try:
            page.wait_for_load_state("networkidle", timeout=b.timeout_seconds * 1000)
        except Exception:
            pass
        page.keyboard.press("Tab")
        page.mouse.click(1, 1)  # a pointer interaction on the page's margin: nothing to follow there
        time.sleep(SETTLE_SECONDS)
        page.evaluate(FINALIZE)
        page.wait_for_timeout(100)
        vitals: dict[str, Any] = page.evaluate(READ)
        vitals["bytes"] = {**transferred, "total": sum(transferred.values())}
        return vitals
    finally:
        context.close()


def _measure(browser: Any, b: PageBudget, url: str) -> list[BudgetResult]:
    runs: list[dict[str, Any]] = []
    try:
        for _ in range(b.runs):
            runs.append(_one_run(browser, b, url))
    except PageUnavailable as exc:
        return _all(b, "error", str(exc))
    where = f"{url}, {b.throttling} throttling, median of {len(runs)} run(s)"
    out = []
    for label, unit, limit in figures(b):
        detail = where
        if label == "LCP":
            values = [r["lcp"] for r in runs if r["lcp"] is not None]
            element = runs[-1].get("lcpElement")
            detail += f"; LCP element {element}" if element else ""
        elif label == "CLS":
            values = [r["cls"] or 0.0 for r in runs]
        elif label == "TBT":
            values = [r["tbt"] for r in runs]
        elif label == "INP":
            values = [r["inp"] for r in runs if r["inp"] is not None]
            detail += "; a key press (Tab) and a click after load"
        elif label.endswith(" bytes"):
            kind = label.removesuffix(" bytes")
            values = [r["bytes"].get(kind, 0.0) for r in runs]
        else:
            worst = [max(r["images"], key=lambda i: i["ratio"]) if r["images"] else None for r in runs]
            values = [w["ratio"] if w else 1.0 for w in worst]
            w = next((w for w in reversed(worst) if w), None)
            if w:
                detail += (
                    f"; worst {w['src'][:120]}: {w['natural'][0]}x{w['natural'][1]} shown at "
                    f"{w['displayed'][0]}x{w['displayed'][1]} CSS px (x{runs[-1]['dpr']:g})"
                )
            else:
                detail += "; no visible image"
        measured = median(values)
        if measured is None:
            out.append(
                BudgetResult("page", f"{b.name}: {label}", unit, limit, None, "error", f"{where}: no {label} reported")
            )
            continue
        status: Any = "ok" if measured <= limit else "over"
        extra = {"runs": [round(v, 4) for v in values]}
        out.append(BudgetResult("page", f"{b.name}: {label}", unit, limit, measured, status, detail, extra))
    return out
