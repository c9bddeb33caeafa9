"""The Alembic migrations build exactly the schema the models describe, and can be walked down and up again.

Runs on SQLite and, in the PostgreSQL half of `make test`, on a throwaway PostgreSQL database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from store.migrate import alembic_config, upgrade
from store.models import Base


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test (a file, or a throwaway PostgreSQL database)."""
    if os.environ.get("BLEIBE_TEST_DB") != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    import psycopg

    from tests.conftest import postgres_admin_url

    admin = postgres_admin_url().replace("postgresql+psycopg://", "postgresql://")
    name = f"bleibe_migr_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sync(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def _differences(url: str) -> list[Any]:
    engine = create_engine(_sync(url))
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(_sync(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_build_the_models_schema(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    assert _tables(empty_db_url) == set(Base.metadata.tables)
    assert _differences(empty_db_url) == [], "a model change without its migration (or the other way round)"


def test_migrations_walk_down_to_nothing_and_up_again(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    command.downgrade(alembic_config(empty_db_url), "base")
    assert _tables(empty_db_url) == set()
    upgrade(empty_db_url)
    assert _differences(empty_db_url) == []
