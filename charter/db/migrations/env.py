"""Alembic environment: Charter passes its engine in ``config.attributes['engine']``."""

from alembic import context

from charter.db.tables import load_all

metadata = load_all()

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
