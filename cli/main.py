"""The `bleibe` command: users, ops, GDPR export, and the processes of the service."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from core.settings import Settings, get_settings


class CliError(Exception):
    """A failure to report in one line (exit status 1)."""


def _db_unreachable(settings: Settings, exc: BaseException) -> CliError:
    return CliError(
        f"database not reachable at {_safe_url(settings.database_url)} ({type(exc).__name__}); "
        "check DATABASE_URL or start the database"
    )


def _safe_url(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


async def _with_session(settings: Settings, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from store.db import UNAVAILABLE_ERRORS, make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await fn(session)
            await session.commit()
            return result
    except UNAVAILABLE_ERRORS as exc:
        raise _db_unreachable(settings, exc) from exc
    finally:
        await engine.dispose()


def migrate(settings: Settings) -> None:
    from store.migrate import upgrade

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        raise _db_unreachable(settings, exc) from exc


# ---- commands ----------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    migrate(settings)
    print("database is up to date")
    return 0


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from store.users import UserError, create_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    migrate(settings)

    async def run(session: Any) -> tuple[Any, str]:
        from datetime import UTC, datetime

        from store.models import AuditEvent

        user, token = await create_user(session, name=args.name, role=args.role, unit=args.unit, password=password,
                                        email=args.email)
        session.add(AuditEvent(at=datetime.now(UTC), role="cli", institution="operations", action="user_created",
                               details={"user_id": user.id, "role": user.role}))
        return user, token

    try:
        user, token = asyncio.run(_with_session(settings, run))
    except UserError as exc:
        raise CliError(str(exc)) from exc
    print(f"created user {user.name} (id {user.id}, role {user.role}, institution {user.institution})")
    print(token)
    return 0


def cmd_users_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from store.users import UserError, revoke_user

    async def run(session: Any) -> Any:
        from datetime import UTC, datetime

        from store.models import AuditEvent

        user = await revoke_user(session, args.name)
        session.add(AuditEvent(at=datetime.now(UTC), role="cli", institution="operations", action="user_revoked",
                               details={"user_id": user.id}))
        return user

    try:
        user = asyncio.run(_with_session(settings, run))
    except UserError as exc:
        raise CliError(str(exc)) from exc
    print(f"revoked user {user.name} and all their tokens")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from worker import run_worker

    asyncio.run(run_worker(settings))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                timeout_graceful_shutdown=5)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from devstack import run_stack

    return run_stack(settings)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bleibe", description="Bleibe – Fallübergabe Beratungsstelle/Ausländerbehörde")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    users = sub.add_parser("users", help="create and revoke users").add_subparsers(dest="users_cmd", required=True)
    c = users.add_parser("create", help="create a user; prints the API token as the last line")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=["counselor", "authority_liaison", "authority_lead", "ops"])
    c.add_argument("--unit")
    c.add_argument("--email", help="address for notifications (reminders, escalations)")
    c.add_argument("--password-stdin", action="store_true", help="read the web login password from stdin")
    c.set_defaults(func=cmd_users_create)
    r = users.add_parser("revoke", help="revoke a user and all their tokens")
    r.add_argument("name")
    r.set_defaults(func=cmd_users_revoke)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("worker", help="run a worker process").set_defaults(func=cmd_worker)
    sub.add_parser("api", help="run the API and web UI").set_defaults(func=cmd_api)
    sub.add_parser("run", help="run the embedded stack (what `make run` does)").set_defaults(func=cmd_run)

    try:
        from cli.ops import register as register_ops

        register_ops(sub)
    except ImportError:
        pass
    from cli.gdpr import register as register_gdpr

    register_gdpr(sub)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    status = 1
    try:
        status = int(args.func(args, get_settings()) or 0)
    except CliError as exc:
        print(f"bleibe: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        status = 130
    except Exception as exc:  # unexpected: one line, full detail only with BLEIBE_DEBUG
        if os.environ.get("BLEIBE_DEBUG"):
            raise
        print(f"bleibe: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # A process that used a Temporal client can abort at exit (sdk-python#300): end with our own status.
    os._exit(status)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
