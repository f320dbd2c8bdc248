"""Admin views, one module per area; each defines ``router`` (see ``charter.admin.routes.VIEWS``)."""
