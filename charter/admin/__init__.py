"""The web admin at ``/admin``: server-rendered pages (Jinja2 + vendored htmx) for editors,
reviewers and admins. Views are thin doors into the same library actions as the API; see
docs/admin.md."""
