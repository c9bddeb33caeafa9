"""Temporal Schedules the worker keeps in line with the settings (meeting planner, retention)."""

from __future__ import annotations

from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput


async def upsert_schedule(client: Client, schedule_id: str, schedule: Schedule, *,
                          trigger_immediately: bool = False) -> str:
    """Create the schedule, or replace an existing one's definition (idempotent): "created" or "updated"."""
    try:
        await client.create_schedule(schedule_id, schedule, trigger_immediately=trigger_immediately)
        return "created"
    except ScheduleAlreadyRunningError:
        pass

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(schedule_id).update(replace)
    return "updated"
