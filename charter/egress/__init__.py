"""One guard for every outbound request Charter makes (webhooks, gateway providers, content
sources, live contract checks, budget checks): internal addresses are refused in every spelling
unless ``[charter.egress] allow`` names them; names are resolved once and the connection goes to
the checked address; redirects are not followed. See docs/egress.md.

>>> policy = policy_for(settings)            # [charter.egress] of the project
>>> check_url("http://127.1/hook", policy)   # when a URL is saved: Refused says why
>>> with client(policy, timeout=10) as http: # the only way to build an outbound httpx client
...     http.post(url, content=body)
"""

from charter.egress.addresses import refusal
from charter.egress.clients import (
    AsyncGuardedTransport,
    GuardedTransport,
    RefusedConnection,
    async_client,
    client,
    refused_reason,
)
from charter.egress.policy import EgressSettings, Policy, Refused, check_url, policy_for

__all__ = [
    "AsyncGuardedTransport",
    "EgressSettings",
    "GuardedTransport",
    "Policy",
    "Refused",
    "RefusedConnection",
    "async_client",
    "check_url",
    "client",
    "policy_for",
    "refusal",
    "refused_reason",
]
