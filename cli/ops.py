"""`bleibe ops stuck` and `bleibe ops repair CASE_ID`: the ops board and the repair from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from cli.main import CliError, _with_session, print_json
from core.settings import Settings


def _logs_to_stderr(settings: Settings) -> None:
    """Logs go to stderr, so stdout holds only the command's answer (JSON for scripts)."""
    from core.logging import configure_logging

    configure_logging(settings.log_format, settings.log_level)


async def _client(settings: Settings) -> Any:
    from core.temporal import connect

    try:
        return await asyncio.wait_for(connect(settings), 15)
    except Exception as exc:  # any connection failure: say where we tried
        raise CliError(f"Temporal not reachable at {settings.temporal_address or '127.0.0.1:7233'} "
                       f"({type(exc).__name__}); check TEMPORAL_ADDRESS") from exc


def cmd_stuck(args: argparse.Namespace, settings: Settings) -> int:
    from api.ops_service import stuck_cases

    _logs_to_stderr(settings)

    async def run(session: Any) -> list[Any]:
        try:
            client = await _client(settings)
        except CliError as exc:
            print(f"bleibe: {exc}; showing the read model's findings only", file=sys.stderr)
            client = None
        return await stuck_cases(session, client, settings, max_age=None)

    found = asyncio.run(_with_session(settings, run))
    if args.json:
        print_json([s.model_dump(mode="json") for s in found])
        return 0
    for s in found:
        print(f"{s.case_id}  {s.reference}  {s.stage}  {s.reason}  seit {s.since:%Y-%m-%d %H:%M}  {s.detail}")
    print(f"{len(found)} stuck" if found else "no stuck cases")
    return 0


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    from api.ops_service import repair_case
    from api.problems import Problem
    from store.models import User

    _logs_to_stderr(settings)
    # Not stored: the audit row names the command line as the actor (as `users create` does).
    actor = User(id=None, name="cli", role="cli", institution="operations")

    async def run(session: Any) -> dict[str, Any]:
        client = await _client(settings)
        try:
            return await repair_case(session, client, settings, args.case_id, actor)
        except Problem as exc:
            raise CliError(exc.detail) from exc

    result = asyncio.run(_with_session(settings, run))
    print_json(result)
    return 0


def register(sub: Any) -> None:
    """Add the `ops` commands to the `bleibe` parser (called by cli.main.build_parser)."""
    ops = sub.add_parser("ops", help="stuck cases and repairs").add_subparsers(dest="ops_cmd", required=True)
    s = ops.add_parser("stuck", help="list stuck cases (stage SLA, missed deadline, failing or missing workflow)")
    s.add_argument("--json", action="store_true", help="print JSON instead of lines")
    s.set_defaults(func=cmd_stuck)
    r = ops.add_parser("repair", help="re-sync a case from its workflow, or restart its lost workflow; audited")
    r.add_argument("case_id")
    r.set_defaults(func=cmd_repair)
