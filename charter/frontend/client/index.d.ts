// Charter's typed delivery client. Written by `charter types generate --package`.
import type { Answer, ContentTypes, EntryList, Problem } from "./content/index.js";

export type { Answer, ContentTypes, EntryList, Problem } from "./content/index.js";
export * from "./content/index.js";

export interface ClientOptions {
  /** The Charter server, e.g. `https://content.example.com`. */
  baseUrl: string;
  /** A bearer token (only needed where the server asks for one). */
  token?: string;
  /** A preview token: reads show the draft or release it names, never cached. */
  preview?: string | null;
  /** Retries of network errors, 429, 502, 503 and 504 (default 2), with exponential back-off and jitter; `Retry-After` wins. */
  retries?: number;
  /** First back-off in ms (default 200), doubled per attempt up to `maxBackoffMs` (default 5000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per attempt (default 10000 ms). */
  timeoutMs?: number;
  /** ETag revalidation cache (default on): a repeated read sends `If-None-Match` and reuses the body on 304. */
  cache?: boolean;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
}

export interface ReadOptions {
  /** A locale such as `de-AT`; fields fall back along the type's chain. */
  locale?: string;
  signal?: AbortSignal;
}

export interface ListOptions extends ReadOptions {
  limit?: number;
  cursor?: string;
  /** Exact-match filters on top-level fields: `{slug: "pricing"}` → `fields.slug=pricing`. */
  filters?: Record<string, string | number | boolean>;
}

/** A 4xx/5xx answer: the problem details body the server sent. */
export declare class CharterError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly url: string;
}

/** The envelope of the `page` content type (`never` in a project without one). */
type PageEnvelope = ContentTypes extends { page: infer P } ? P : never;

export interface Client {
  getPage(slug: string, options?: ReadOptions): Promise<PageEnvelope>;
  getEntry<T extends keyof ContentTypes>(type: T, id: string, options?: ReadOptions): Promise<ContentTypes[T]>;
  listEntries<T extends keyof ContentTypes>(type: T, options?: ListOptions): Promise<EntryList<ContentTypes[T]>>;
  allEntries<T extends keyof ContentTypes>(type: T, options?: ListOptions): AsyncGenerator<ContentTypes[T], void, void>;
  ask(question: string, options?: { locale?: string; signal?: AbortSignal }): Promise<Answer>;
  /** Live preview: `handler` runs each time what the preview token shows changes; returns a stop function. */
  watchPreview(
    handler: (change: PreviewState) => void,
    options?: { token?: string; onEnd?: (reason: string) => void },
  ): () => void;
  setPreview(token: string | null): void;
  readonly preview: string | null;
}

export declare function createClient(options: ClientOptions): Client;

/** What `GET /v1/preview/events` reports: the token's target and an opaque version of its state. */
export interface PreviewState {
  scope: "entry" | "release";
  id: string;
  version: string;
}

export interface PreviewChange {
  entryId: string;
  revision: number;
  token: string | null;
}

export declare function onPreviewChange(
  adminOrigin: string,
  handler: (change: PreviewChange) => void,
  target?: Pick<Window, "addEventListener" | "removeEventListener">,
): () => void;
