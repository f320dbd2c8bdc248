"""HTTP caching for delivery responses, written once: the ETag, the conditional request and the
``Cache-Control`` values. The delivery routes (:mod:`charter.delivery.api`), the raw fast path
(:mod:`charter.delivery.fastpath`) and pinned old majors (:mod:`charter.delivery.pinning`) all
read it, so the three answer a conditional request the same way.

- The ETag is strong and covers the exact bytes sent (RFC 9110 §8.8.3): a quoted 24-hex-digit
  BLAKE2b digest of the body.
- ``If-None-Match`` uses the weak comparison (RFC 9110 §13.1.2): ``W/"x"`` matches ``"x"``; a
  list matches when any member does; ``*`` matches any current representation, and a delivery
  response only exists for a current one, so ``*`` always matches. A match is a 304 with the
  200's headers and no body (RFC 9110 §15.4.5).
- Shared caches may keep a published response for ``max-age`` seconds and serve it stale while
  revalidating (RFC 9111 §5.2.2.1, RFC 5861); previews are ``private, no-store``.
"""

from __future__ import annotations

import hashlib

#: A response no cache may keep (previews: a draft must never reach a shared cache).
PRIVATE_NO_STORE = "private, no-store"


def etag_of(body: bytes) -> str:
    """The strong ETag of ``body`` (quoted)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def if_none_match(header: str | bytes | None, etag: str) -> bool:
    """Does an ``If-None-Match`` field value match ``etag`` (weak comparison, ``*`` included)?

    ``header`` is the field value as a ``str`` (Starlette) or the raw ``bytes`` (ASGI scope);
    None or empty never matches."""
    if not header:
        return False
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def public_cache_control(max_age: int, stale_while_revalidate: int | None = None) -> str:
    """``Cache-Control`` for a published response any cache may keep ``max_age`` seconds."""
    value = f"public, max-age={max_age}"
    if stale_while_revalidate is not None:
        value += f", stale-while-revalidate={stale_while_revalidate}"
    return value
