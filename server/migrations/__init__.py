"""Alembic migrations; ``server.migrations.upgrade(url)`` applies them."""
