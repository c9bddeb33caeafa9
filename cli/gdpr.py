"""`bleibe export-person REFERENCE`: a person's data as JSON (GDPR Art. 15 access request), audited.

The export is what the counseling service holds and may disclose: the person, their cases with
documents' states, the notes the counseling service may read (its own internal notes and all shared
ones, never the authority's internal notes) and each case's timeline.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from rules.lifecycle import Institution
from store.models import AuditEvent, Case, Note, Person, User


class ExportError(ValueError):
    """No person with this reference (or their data was deleted)."""


def _readable_by_counseling(note: Note) -> bool:
    return note.text is not None and (note.visibility == "shared" or note.institution == Institution.COUNSELING)


async def export_person(session: AsyncSession, reference: str) -> dict[str, Any]:
    """The export document; also writes the audit event `export_person` (committed by the caller)."""
    person = await session.scalar(select(Person).where(Person.reference == reference))
    if person is None:
        raise ExportError(f"no person with reference {reference!r}")
    cases = (await session.scalars(select(Case).where(Case.person_id == person.id).order_by(Case.created_at))).all()
    case_ids = [c.id for c in cases]
    notes = (await session.scalars(select(Note).where(Note.case_id.in_(case_ids)).order_by(Note.created_at))).all()
    events = (await session.scalars(
        select(AuditEvent).where(AuditEvent.case_id.in_(case_ids)).order_by(AuditEvent.case_id, AuditEvent.id)
    )).all()
    names = dict((await session.execute(select(User.id, User.name))).all())
    visible_notes = {n.id: n for n in notes if _readable_by_counseling(n)}
    hidden_notes = {n.id for n in notes} - set(visible_notes)

    def timeline_of(case_id: str) -> list[dict[str, Any]]:
        out = []
        for e in events:
            if e.case_id != case_id:
                continue
            details = dict(e.details or {})
            text_id = details.pop("text_id", None)
            if text_id in hidden_notes and e.action == "add_note":
                continue  # the authority's internal note: not the counseling service's to disclose
            if text_id in visible_notes:
                details["text"] = visible_notes[text_id].text
            out.append({"at": e.at.isoformat(), "actor": names.get(e.actor_id or 0, "system"), "role": e.role,
                        "institution": e.institution, "action": e.action, "from_stage": e.from_stage,
                        "to_stage": e.to_stage, "details": details})
        return out

    result = {
        "exported_at": datetime.now(UTC).isoformat(),
        "legal_basis": "Art. 15 DSGVO",
        "person": {"reference": person.reference, "given_name": person.given_name,
                   "family_name": person.family_name,
                   "birth_date": person.birth_date.isoformat() if person.birth_date else None,
                   "profile": person.profile,
                   "personal_data_deleted_at": person.deleted_at.isoformat() if person.deleted_at else None},
        "cases": [{
            "id": c.id, "stage": c.stage, "status": c.status, "pathway": c.pathway, "outcome": c.outcome,
            "consent_given": c.consent_given, "consent_date": c.consent_date.isoformat() if c.consent_date else None,
            "consent_revoked_at": c.consent_revoked_at.isoformat() if c.consent_revoked_at else None,
            "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
            "authority_file_number": c.authority_file_number, "documents": c.documents, "deadlines": c.deadlines,
            "created_at": c.created_at.isoformat(), "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "notes": [{"kind": n.kind, "visibility": n.visibility, "institution": n.institution,
                       "author": names.get(n.author_id, "?"), "text": n.text,
                       "created_at": n.created_at.isoformat() if n.created_at else None}
                      for n in visible_notes.values() if n.case_id == c.id],
            "timeline": timeline_of(c.id),
        } for c in cases],
    }
    session.add(AuditEvent(at=datetime.now(UTC), case_id=None, seq=None, actor_id=None, role="cli",
                           institution="operations", action="export_person",
                           details={"person_id": person.id, "case_ids": case_ids}))
    return result


def cmd_export_person(args: argparse.Namespace, settings: Settings) -> int:
    from cli.main import CliError, _with_session, print_json

    async def run(session: AsyncSession) -> dict[str, Any]:
        return await export_person(session, args.reference)

    try:
        data = asyncio.run(_with_session(settings, run))
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    print_json(data)
    return 0


def register(sub: Any) -> None:
    """Add `export-person` to the `bleibe` command."""
    p = sub.add_parser("export-person", help="print a person's data as JSON (GDPR Art. 15), audited")
    p.add_argument("reference", help="the person's reference (Aktenzeichen of the counseling service)")
    p.set_defaults(func=cmd_export_person)
