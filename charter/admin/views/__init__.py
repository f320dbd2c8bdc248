"""Admin views, one module per area; each defines ``router``, registered by :mod:`charter.admin.plugin`."""
