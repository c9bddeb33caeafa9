"""German labels for the codes the UI shows (stages, roles, actions, states); unknown codes pass through."""

from __future__ import annotations

from rules.checklists import DOCUMENT_TYPES
from rules.eligibility import PATHWAY_LABELS

STAGES: dict[str, str] = {
    "intake": "Aufnahme",
    "document_collection": "Unterlagen",
    "authority_review": "Prüfung ABH",
    "joint_meeting": "Austauschtreffen",
    "decision": "Entscheidung",
    "closed": "Abgeschlossen",
}
STEP_STAGES = tuple(STAGES)

ROLES: dict[str, str] = {
    "counselor": "Beratung",
    "authority_liaison": "Sachbearbeitung ABH",
    "authority_lead": "Leitung ABH",
    "ops": "Betrieb",
}

ACTIONS: dict[str, str] = {
    "complete_intake": "Aufnahme abschließen",
    "record_document": "Unterlage erfassen",
    "submit_to_authority": "An die Ausländerbehörde übergeben",
    "acknowledge": "Eingang bestätigen",
    "request_documents": "Unterlagen nachfordern",
    "refer_to_meeting": "An Austauschtreffen verweisen",
    "prepare_decision": "Entscheidung vorbereiten",
    "decide": "Entscheiden",
    "record_interim": "Zwischenstand erfassen",
    "withdraw": "Fall zurückziehen",
    "add_note": "Notiz hinzufügen",
    "revoke_consent": "Einwilligung widerrufen",
}

# Timeline events beyond the actions above.
EVENTS: dict[str, str] = {
    **ACTIONS,
    "create_case": "Fall angelegt",
    "stage_changed": "Stand geändert",
    "deadline_reminder": "Fristerinnerung",
    "deadline_missed": "Frist versäumt",
    "eligibility_reached": "Voraussetzungen erreicht",
    "review_escalated": "Prüfung eskaliert",
    "appeal_deadline_passed": "Rechtsbehelfsfrist abgelaufen",
    "meeting_outcome": "Ergebnis des Austauschtreffens",
    "read_case": "Fall gelesen",
}

STATUSES: dict[str, str] = {
    "active": "aktiv",
    "waiting": "wartet",
    "overdue": "überfällig",
    "closed": "abgeschlossen",
}

DOC_STATES: dict[str, str] = {
    "missing": "fehlt",
    "received": "liegt vor",
    "verified": "geprüft",
    "expired": "abgelaufen",
    "waived": "entbehrlich",
}

DEADLINE_KINDS: dict[str, str] = {
    "eligibility_date": "Voraussetzungen erfüllt ab",
    "document_due": "Unterlagen fällig",
    "review_sla": "Prüffrist der Behörde",
    "duldung_expiry": "Duldung läuft ab",
    "fiktion_expiry": "Fiktionsbescheinigung läuft ab",
    "appeal_deadline": "Rechtsbehelfsfrist",
}

DEADLINE_STATES: dict[str, str] = {
    "pending": "offen",
    "reminded": "erinnert",
    "missed": "versäumt",
    "met": "erledigt",
    "cancelled": "entfallen",
}

ELIGIBILITY: dict[str, str] = {
    "met": "erfüllt",
    "not_yet": "noch nicht erfüllt",
    "not_met": "nicht erfüllt",
    "unknown": "unklar (Angaben fehlen)",
}

OUTCOMES: dict[str, str] = {
    "granted": "erteilt",
    "refused": "abgelehnt",
    "withdrawn": "zurückgezogen",
}

MEETING_OUTCOMES: dict[str, str] = {
    "back_to_review": "Zurück in die Prüfung",
    "request_documents": "Unterlagen nachfordern",
    "decision_ready": "Entscheidungsreif",
}

MEETING_STATES: dict[str, str] = {"planned": "geplant", "held": "durchgeführt"}

INTERIM_KINDS: dict[str, str] = {
    "duldung_extended": "Duldung verlängert",
    "fiktionsbescheinigung": "Fiktionsbescheinigung erteilt",
}

VISIBILITY: dict[str, str] = {"internal": "intern", "shared": "geteilt"}

STUCK_REASONS: dict[str, str] = {
    "stage_sla": "Zu lange im selben Stand",
    "missed_deadline": "Frist versäumt",
    "failing_activity": "Aktivität schlägt fehl",
    "workflow_missing": "Workflow fehlt",
}

DULDUNG_TYPES: dict[str, str] = {
    "regular": "Duldung (§ 60a)",
    "light_60b": "Duldung light (§ 60b)",
    "procedural": "Verfahrensduldung",
    "training_60c": "Ausbildungsduldung (§ 60c)",
    "employment_60d": "Beschäftigungsduldung (§ 60d)",
}
LANGUAGE_LEVELS: dict[str, str] = {"none": "keine", **{lvl: lvl for lvl in ("A1", "A2", "B1", "B2", "C1", "C2")}}
LIVELIHOOD: dict[str, str] = {
    "none": "nicht gesichert",
    "partly": "teilweise (bis 50 %)",
    "largely": "überwiegend (über 50 %)",
    "fully": "vollständig",
}
PASSPORT: dict[str, str] = {
    "valid": "gültig",
    "expired": "abgelaufen",
    "applied": "beantragt",
    "impossible": "unmöglich oder unzumutbar",
    "none": "keiner",
}

PATHWAYS: dict[str, str] = PATHWAY_LABELS
PATHWAY_SHORT: dict[str, str] = {code: text.split(" – ")[0] for code, text in PATHWAY_LABELS.items()}
DOCUMENTS: dict[str, str] = DOCUMENT_TYPES


def label(table: dict[str, str], code: object) -> str:
    """The German label of `code`, or the code itself when the table has none."""
    if code is None:
        return "–"
    return table.get(str(code), str(code))


TABLES: dict[str, dict[str, str]] = {
    "stage": STAGES, "role": ROLES, "action": ACTIONS, "event": EVENTS, "status": STATUSES, "doc_state": DOC_STATES,
    "deadline_kind": DEADLINE_KINDS, "deadline_state": DEADLINE_STATES, "eligibility": ELIGIBILITY,
    "outcome": OUTCOMES, "meeting_outcome": MEETING_OUTCOMES, "meeting_state": MEETING_STATES,
    "interim": INTERIM_KINDS, "visibility": VISIBILITY, "stuck": STUCK_REASONS, "pathway": PATHWAY_SHORT,
    "pathway_long": PATHWAYS, "document": DOCUMENTS,
}
