"""Helpers for the ops, reports and notification tests: a private database, rows planted as the projection would."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from store.models import Case, Person, User


@asynccontextmanager
async def private_database(tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    """A fresh migrated database (SQLite, or PostgreSQL under BLEIBE_TEST_DB=postgres) and its sessionmaker.

    Reports and the outbox sender work over all rows, so their tests must not share rows with other tests.
    """
    from store.db import make_engine, make_sessionmaker
    from store.migrate import upgrade
    from tests.conftest import postgres_admin_url

    name = None
    if os.environ.get("BLEIBE_TEST_DB") == "postgres":
        import psycopg

        admin = postgres_admin_url().replace("postgresql+psycopg://", "postgresql://")
        name = f"bleibe_ops_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'private.sqlite3'}"
    await asyncio.to_thread(upgrade, url)  # Alembic's env runs its own event loop
    engine = make_engine(url)
    try:
        yield url, make_sessionmaker(engine)
    finally:
        await engine.dispose()
        if name:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def plant_user(session: Any, role: str = "counselor", unit: str | None = "dd", email: str | None = None) -> User:
    inst = {"counselor": "counseling", "ops": "operations"}.get(role, "authority")
    user = User(name=f"{role}-{uuid.uuid4().hex[:8]}", role=role, institution=inst, unit=unit, email=email)
    session.add(user)
    await session.flush()
    return user


async def plant_case(session: Any, creator: User, *, stage: str = "intake", given_name: str = "Testa",
                     family_name: str = "Person", **fields: Any) -> Case:
    """A read-model row with its person, as create_case and the projection would leave it."""
    now = datetime.now(UTC)
    person = Person(id=str(uuid.uuid4()), reference=f"R-{uuid.uuid4().hex[:10]}", given_name=given_name,
                    family_name=family_name, profile={})
    session.add(person)
    await session.flush()
    values: dict[str, Any] = {
        "id": f"case-{uuid.uuid4()}", "person_id": person.id, "reference": person.reference, "unit": creator.unit,
        "created_by": creator.id, "stage": stage, "status": "closed" if stage == "closed" else "active",
        "consent_given": True, "stage_entered_at": now, "created_at": now, "updated_at": now, "last_seq": 0,
        "deadlines": [], "documents": [],
    }
    values.update(fields)
    row = Case(**values)
    session.add(row)
    await session.flush()
    return row


async def plant_many(session: Any, creator: User, cases: list[dict[str, Any]]) -> None:
    """Bulk rows for load-shaped tests: each dict names at least id, stage and stage_entered_at of one case.

    Its person gets the case's id as reference; created/updated times default to the stage entry.
    """
    people, rows = [], []
    for c in cases:
        entered = c["stage_entered_at"]
        people.append({"id": f"p-{c['id']}", "reference": c.get("reference", c["id"]), "profile": {}})
        rows.append({"person_id": f"p-{c['id']}", "reference": c.get("reference", c["id"]), "created_by": creator.id,
                     "status": "active", "consent_given": True, "created_at": entered, "updated_at": entered,
                     "last_seq": 1, "deadlines": [], "documents": [], **c})
    await session.execute(insert(Person), people)
    await session.execute(insert(Case), rows)
    await session.commit()
