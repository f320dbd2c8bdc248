// Node's test runner over the typed client, against the server in CHARTER_URL (see test_client.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, CharterError } from "@lumen/content";
import { PricingPlanV1Schema } from "@lumen/content/content";

const baseUrl = process.env.CHARTER_URL;
const expectedPlans = JSON.parse(process.env.PLAN_IDS);

function counting() {
  const seen = [];
  const wrapped = async (url, init) => {
    const r = await fetch(url, init);
    seen.push({ status: r.status, inm: init.headers["if-none-match"] ?? null });
    return r;
  };
  return { seen, fetch: wrapped };
}

test("a page in a locale, with the fallback it resolved", async () => {
  const page = await createClient({ baseUrl }).getPage("pricing", { locale: "de-AT" });
  assert.equal(page.type, "page");
  assert.equal(page.locale.requested, "de-AT");
  assert.equal(page.locale.resolved, "de-DE");
  assert.equal(page.data.title, "Preise");
  assert.ok(page.included.some((e) => e.type === "pricing-plan"));
});

test("a repeated read revalidates with the ETag and reuses the body on 304", async () => {
  const c = counting();
  const client = createClient({ baseUrl, fetch: c.fetch });
  const first = await client.getPage("pricing");
  const second = await client.getPage("pricing");
  assert.deepEqual(second, first);
  assert.deepEqual(c.seen.map((s) => s.status), [200, 304]);
  assert.ok(c.seen[1].inm);
});

test("lists page by page with cursors, and filters by field", async () => {
  const client = createClient({ baseUrl });
  const one = await client.listEntries("pricing-plan", { limit: 1 });
  assert.equal(one.items.length, 1);
  assert.ok(one.next_cursor);
  const ids = [];
  for await (const plan of client.allEntries("pricing-plan", { limit: 1 })) ids.push(plan.data.id);
  assert.deepEqual(ids.sort(), [...expectedPlans].sort());
  const only = await client.listEntries("pricing-plan", { filters: { id: expectedPlans[0] } });
  assert.deepEqual(only.items.map((e) => e.data.id), [expectedPlans[0]]);
  assert.equal(PricingPlanV1Schema.id, "pricing-plan.v1");
});

test("errors are typed problem details", async () => {
  const client = createClient({ baseUrl });
  await assert.rejects(client.getEntry("pricing-plan", "no-such-plan"), (e) => {
    assert.ok(e instanceof CharterError);
    assert.equal(e.status, 404);
    assert.equal(e.problem.status, 404);
    assert.match(e.problem.type, /not-found/);
    return true;
  });
  await assert.rejects(client.getPage("pricing", { locale: "fr-FR" }), (e) => e instanceof CharterError && e.status >= 400 && e.status < 500);
});

test("a forged preview token is refused; preview reads are never revalidated from the cache", async () => {
  const c = counting();
  const client = createClient({ baseUrl, fetch: c.fetch });
  await client.getPage("pricing");
  client.setPreview("forged-token");
  await assert.rejects(client.getPage("pricing"), (e) => e instanceof CharterError && e.status === 401);
  assert.equal(c.seen[1].inm, null);
  client.setPreview(null);
  assert.equal(client.preview, null);
});

test("503 and 429 are retried with back-off, Retry-After honoured; the retries are bounded", async () => {
  let calls = 0;
  const flaky = async (url, init) => {
    calls += 1;
    if (calls === 1) return new Response("{}", { status: 503 });
    if (calls === 2) return new Response("{}", { status: 429, headers: { "retry-after": "0" } });
    return fetch(url, init);
  };
  const page = await createClient({ baseUrl, fetch: flaky, backoffMs: 1 }).getPage("pricing");
  assert.equal(page.data.slug, "pricing");
  assert.equal(calls, 3);
  let down = 0;
  const always = async () => { down += 1; return new Response(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503 }), { status: 503 }); };
  await assert.rejects(createClient({ baseUrl, fetch: always, retries: 2, backoffMs: 1 }).getPage("pricing"), (e) => e.status === 503);
  assert.equal(down, 3);
});

test("ask answers with citations or refuses, in the Answer shape", async () => {
  const a = await createClient({ baseUrl }).ask("How do I connect a data source?", { locale: "en" });
  assert.equal(typeof a.answer, "string");
  assert.equal(typeof a.refused, "boolean");
  assert.ok(Array.isArray(a.citations));
  for (const c of a.citations) assert.equal(typeof c.url, "string");
});

test("a bad base URL is refused at once", () => {
  assert.throws(() => createClient({ baseUrl: "javascript:alert(1)" }), TypeError);
});
