// Charter's typed delivery client: ESM, no runtime dependencies, fetch-based (Node 18+ and browsers).
// Written by `charter types generate --package`; the types are in index.d.ts and ./content/.

const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/** A problem details answer (RFC 9457) from Charter, thrown by every method on a 4xx/5xx. */
export class CharterError extends Error {
  constructor(status, problem, url) {
    super(`${status} ${problem.title ?? "error"}${problem.detail ? `: ${problem.detail}` : ""} (${url})`);
    this.name = "CharterError";
    this.status = status;
    this.problem = problem;
    this.url = url;
  }
}

/** Create a client for one Charter delivery API. */
export function createClient(options) {
  if (!options || typeof options.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl)) {
    throw new TypeError("createClient: baseUrl must be an absolute http(s) URL");
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 10000;
  const cache = options.cache === false ? null : new Map(); // url -> {etag, body}
  let preview = options.preview ?? null;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function delayFor(attempt, response) {
    const header = response?.headers.get("retry-after");
    if (header) {
      const seconds = Number(header);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, maxBackoffMs);
    }
    const exp = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
    return exp / 2 + Math.random() * (exp / 2); // "equal jitter"
  }

  async function request(path, { method = "GET", query, body, signal } = {}) {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const href = url.toString();
    const headers = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (preview) headers["charter-preview"] = preview;
    if (body !== undefined) headers["content-type"] = "application/json";
    // Previews are never cached: they are drafts, rendered fresh and private.
    const cached = method === "GET" && !preview && cache ? cache.get(href) : undefined;
    if (cached) headers["if-none-match"] = cached.etag;
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const merged = signal && AbortSignal.any ? AbortSignal.any([signal, timeout]) : signal ?? timeout;
      let response;
      try {
        response = await fetchImpl(href, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: merged,
        });
      } catch (error) {
        if (signal?.aborted || attempt >= retries) throw error;
        await sleep(delayFor(attempt, undefined));
        continue;
      }
      if (response.status === 304 && cached) return cached.body;
      if (RETRY_STATUSES.has(response.status) && attempt < retries) {
        await response.body?.cancel();
        await sleep(delayFor(attempt, response));
        continue;
      }
      const text = await response.text();
      let parsed;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = { type: "about:blank", title: "invalid JSON from the server", status: response.status, detail: text.slice(0, 200) };
      }
      if (!response.ok) {
        const problem = parsed && typeof parsed === "object" ? parsed : { type: "about:blank", title: response.statusText, status: response.status };
        throw new CharterError(response.status, problem, href);
      }
      const etag = response.headers.get("etag");
      if (cache && etag && method === "GET" && !preview) cache.set(href, { etag, body: parsed });
      return parsed;
    }
  }

  function localeQuery(opts) {
    return { locale: opts?.locale };
  }

  return {
    /** A page by slug: `GET /v1/pages/{slug}`. */
    getPage(slug, opts) {
      return request(`/v1/pages/${slug.split("/").map(encodeURIComponent).join("/")}`, { query: localeQuery(opts), signal: opts?.signal });
    },
    /** One published entry: `GET /v1/entries/{type}/{id}`. */
    getEntry(type, id, opts) {
      return request(`/v1/entries/${encodeURIComponent(type)}/${encodeURIComponent(id)}`, { query: localeQuery(opts), signal: opts?.signal });
    },
    /** One page of published entries: `GET /v1/entries/{type}` with `fields.<name>` filters. */
    listEntries(type, opts = {}) {
      const query = { ...localeQuery(opts), limit: opts.limit, cursor: opts.cursor };
      for (const [field, value] of Object.entries(opts.filters ?? {})) query[`fields.${field}`] = value;
      return request(`/v1/entries/${encodeURIComponent(type)}`, { query, signal: opts.signal });
    },
    /** Every published entry of a type, page by page. */
    async *allEntries(type, opts = {}) {
      let cursor = opts.cursor;
      do {
        const page = await this.listEntries(type, { ...opts, cursor });
        yield* page.items;
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    },
    /** A cited answer (or a refusal) from the content: `POST /v1/ask`. */
    ask(question, opts = {}) {
      return request("/v1/ask", { method: "POST", body: { question, locale: opts.locale }, signal: opts.signal });
    },
    /**
     * Live preview: `handler({scope, id, version})` runs each time what the preview token shows changes
     * (`GET /v1/preview/events`, server-sent events). Reconnects with back-off after a network error;
     * stops when the token expires or is revoked (`onEnd(reason)`), or when the returned function is called.
     */
    watchPreview(handler, opts = {}) {
      const token = opts.token ?? preview;
      if (!token) throw new TypeError("watchPreview needs a preview token (setPreview or {token})");
      const stop = new AbortController();
      const url = `${base}/v1/preview/events?preview=${encodeURIComponent(token)}`;
      (async () => {
        for (let attempt = 0; !stop.signal.aborted; attempt++) {
          try {
            const response = await fetchImpl(url, { headers: { accept: "text/event-stream" }, signal: stop.signal });
            if (!response.ok) {
              const problem = await response.json().catch(() => ({ title: response.statusText, status: response.status }));
              opts.onEnd?.(problem.detail ?? problem.title);
              return;
            }
            attempt = 0;
            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffer = "";
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer += value;
              let cut;
              while ((cut = buffer.indexOf("\n\n")) >= 0) {
                const block = buffer.slice(0, cut);
                buffer = buffer.slice(cut + 2);
                let name = "message";
                let data = "";
                for (const line of block.split("\n")) {
                  if (line.startsWith("event:")) name = line.slice(6).trim();
                  else if (line.startsWith("data:")) data += line.slice(5).trim();
                }
                if (name === "change") handler(JSON.parse(data));
                else if (name === "end") {
                  opts.onEnd?.(JSON.parse(data).reason);
                  stop.abort();
                  return;
                }
              }
            }
          } catch (error) {
            if (stop.signal.aborted) return;
          }
          await sleep(delayFor(attempt, undefined));
        }
      })();
      return () => stop.abort();
    },
    /** Show drafts: every later read sends this preview token (`null` turns preview mode off). */
    setPreview(token) {
      preview = token ?? null;
    },
    get preview() {
      return preview;
    },
  };
}

/**
 * Live preview inside the admin's side-by-side view: `handler(change)` runs whenever the editor saves
 * a draft of the entry shown. The admin posts `{type: "charter:preview", entryId, revision, token}` to
 * this window; messages from any other origin than `adminOrigin` are ignored. Returns a function that stops
 * listening.
 */
export function onPreviewChange(adminOrigin, handler, target = globalThis) {
  const listener = (event) => {
    if (event.origin !== adminOrigin) return;
    const data = event.data;
    if (!data || data.type !== "charter:preview") return;
    handler({ entryId: data.entryId, revision: data.revision, token: data.token ?? null });
  };
  target.addEventListener("message", listener);
  return () => target.removeEventListener("message", listener);
}
