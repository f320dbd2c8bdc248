"""Content use cases, one module each. The API, the admin and the CLI all call these."""

from charter.content.actions.create import create_entry
from charter.content.actions.delete import delete_entry
from charter.content.actions.publish import publish_entry, unpublish_entry
from charter.content.actions.update import update_entry

__all__ = ["create_entry", "delete_entry", "publish_entry", "unpublish_entry", "update_entry"]
