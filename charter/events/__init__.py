"""Domain events and the transactional outbox.

:mod:`charter.events.core` holds the machinery (an :class:`Event` row, :func:`record` in the
caller's transaction, :func:`since` for followers, the in-process :class:`EventBus`) and the event
type names; :mod:`charter.events.types` holds one dataclass per event type, whose fields are the
payload a consumer (webhooks, the metrics domain, the worker) may rely on. Build an event with
its dataclass and record ``TypedEvent.event()``::

    record(conn, EntryPublished(id=..., ..., previous_revision=3).event(domain="marketing"))
"""

from charter.events.core import *  # noqa: F403
from charter.events.core import __all__ as _core
from charter.events.core import _aware as _aware  # read by the webhook relay
from charter.events.core import events_table as events_table
from charter.events.types import *  # noqa: F403
from charter.events.types import __all__ as _types

__all__ = sorted({*_core, *_types})
