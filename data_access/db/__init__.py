"""The database: engine set-up, the schema and its Alembic migrations, SQL helpers that differ by
engine, the event rollup the writers keep current, and the integrity check."""
