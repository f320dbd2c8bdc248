"""Standard Webhooks signatures (https://www.standardwebhooks.com/, spec "Signature scheme").

Each request carries ``webhook-id`` (the message id: the same on every retry and replay, for
deduplication), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the secret's bytes). The
secret is ``whsec_`` + base64 of 24 random bytes. Signing uses the Standard Webhooks reference
library, so any receiver using one of its libraries verifies Charter's requests as they are.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt at ``at``."""
    signature = Webhook(secret).sign(msg_id, at, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def verify(secret: str, body: bytes | str, headers: dict[str, str]) -> object:
    """Verify a received request (for receivers written in Python, and for tests): the parsed
    body, or ``standardwebhooks.WebhookVerificationError``."""
    return Webhook(secret).verify(body, headers)
