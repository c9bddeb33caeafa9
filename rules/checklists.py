"""Document checklists per pathway and document completeness.

The lists follow DOMAIN.md section 2 step 4 (documents for the submission) narrowed to what each
pathway's conditions need to be shown. Where a passport cannot be had, the counselor marks
``passport`` as ``waived`` and records ``passport_efforts`` and ``identity_documents`` instead
(Stufenmodell of identity clarification; §5 Abs. 3 S. 2, §48 Abs. 3 AufenthG).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from rules.eligibility import PATHWAYS, UnknownPathway

__all__ = [
    "COMPLETE_STATES",
    "DOCUMENT_STATES",
    "DOCUMENT_TYPES",
    "EXPIRING",
    "UnknownPathway",
    "checklist",
    "document_state_counts_as_complete",
    "is_complete",
    "open_items",
]

DOCUMENT_TYPES: dict[str, str] = {
    "passport": "Reisepass",
    "passport_efforts": "Nachweis der Passbeschaffungsbemühungen",
    "identity_documents": "Identitätsnachweise (z. B. Geburtsurkunde, Personalausweis)",
    "duldung_history": "Duldungsverlauf",
    "employment_contract": "Arbeitsvertrag",
    "payslips": "Lohnabrechnungen (letzte 3)",
    "benefit_notices": "Leistungsbescheide",
    "rent_contract": "Mietvertrag",
    "rent_certificate": "Mietbescheinigung",
    "language_certificate": "Sprachzertifikat",
    "civic_test": "Ergebnis „Leben in Deutschland“",
    "school_records": "Schulzeugnisse",
    "training_contract": "Ausbildungsvertrag",
    "health_insurance": "Nachweis der Krankenversicherung",
    "medical_certificates": "Ärztliche Bescheinigungen",
    "photo": "Lichtbild",
    "fdgo_declaration": "Unterschriebene FDGO-Erklärung",
    "qualification_proof": "Qualifikationsnachweis (Berufs- oder Hochschulabschluss, Beschäftigungszeiten)",
}

DOCUMENT_STATES: tuple[str, ...] = ("missing", "received", "verified", "expired", "waived")

#: States in which a document no longer blocks the submission.
COMPLETE_STATES: frozenset[str] = frozenset({"received", "verified", "waived"})

#: Documents that carry a validity date and stop counting once it has passed:
#: - passport: an expired passport does not fulfil the passport duty (§3 Abs. 1, §5 Abs. 1 Nr. 4 AufenthG);
#: - identity_documents: ID cards and similar papers carry an expiry date too;
#: - health_insurance: a secured livelihood includes current health insurance (§2 Abs. 3 S. 1 AufenthG),
#:   and coverage certificates are often issued for a limited time.
#: Language certificates and the civic test result do not expire; payslips and medical certificates
#: become stale rather than invalid, which a date cannot express, so they are left out.
EXPIRING: frozenset[str] = frozenset({"passport", "identity_documents", "health_insurance"})

# What each pathway has to show, in the order a counselor collects it.
_CHECKLISTS: dict[str, tuple[str, ...]] = {
    # §25a: identity/passport, Duldung ≥12 months, school ≥3 years or qualification, FDGO.
    "25a": ("passport", "duldung_history", "school_records", "health_insurance", "photo", "fdgo_declaration"),
    # §25b: residence years, A2, civic knowledge, livelihood > 50 % through work, FDGO.
    "25b": (
        "passport", "duldung_history", "employment_contract", "payslips", "rent_contract",
        "language_certificate", "civic_test", "health_insurance", "photo", "fdgo_declaration",
    ),
    # §104c: 5 years by 31.10.2022, FDGO; no passport, identity or income requirement.
    "104c": ("duldung_history", "photo", "fdgo_declaration"),
    # §60d: identity, 12 months Duldung, 12 months employment ≥20 h, livelihood, A2.
    "60d": (
        "passport", "duldung_history", "employment_contract", "payslips", "language_certificate",
        "health_insurance", "photo",
    ),
    # §60c: identity, 3 months Duldung, training contract.
    "60c": ("passport", "duldung_history", "training_contract", "photo"),
    # §16g: as §60c plus passport duty and livelihood at BAföG level.
    "16g": (
        "passport", "duldung_history", "training_contract", "payslips", "rent_contract", "health_insurance",
        "photo",
    ),
    # §19d: qualification or 3 years of qualified work, B1, adequate housing, job (BA consent).
    "19d": (
        "passport", "duldung_history", "qualification_proof", "employment_contract", "language_certificate",
        "rent_contract", "health_insurance", "photo",
    ),
    # §25 Abs. 5: 18 months of Duldung and no fault; passport efforts show the absence of fault.
    # Medical certificates are added case by case when the obstacle is an illness.
    "25_5": ("passport", "passport_efforts", "duldung_history", "photo"),
}


def checklist(pathway: str) -> list[str]:
    """Document types required to apply for ``pathway`` (codes of :data:`DOCUMENT_TYPES`).

    Raises:
        UnknownPathway: if ``pathway`` is not one of the known pathway codes.
    """
    if pathway not in _CHECKLISTS:
        raise UnknownPathway(f"unknown pathway {pathway!r}; known: {', '.join(PATHWAYS)}")
    return list(_CHECKLISTS[pathway])


def document_state_counts_as_complete(state: str) -> bool:
    """Whether a document in ``state`` no longer blocks the case (received, verified or waived).

    Raises:
        ValueError: if ``state`` is not one of :data:`DOCUMENT_STATES`.
    """
    if state not in DOCUMENT_STATES:
        raise ValueError(f"unknown document state {state!r}; known: {', '.join(DOCUMENT_STATES)}")
    return state in COMPLETE_STATES


def _satisfied(doc_type: str, state: str, valid_until: date | None, as_of: date) -> bool:
    """Whether one document record counts as present on ``as_of``."""
    if doc_type not in DOCUMENT_TYPES:
        raise ValueError(f"unknown document type {doc_type!r}")
    if not document_state_counts_as_complete(state):
        return False
    if state == "waived":
        return True  # nothing to expire
    # A document is valid through its valid_until day; only expiring types are checked.
    return not (doc_type in EXPIRING and valid_until is not None and valid_until < as_of)


def open_items(documents: Iterable[tuple[str, str, date | None]], as_of: date) -> list[str]:
    """Document types still open on ``as_of``, in first-seen order, without duplicates.

    ``documents`` are (type, state, valid_until) records. A type is open when no record of it is
    received, verified or waived, or when its only such records are of an :data:`EXPIRING` type with
    ``valid_until`` before ``as_of`` (e.g. a passport that ran out). Several records of one type
    (an expired and a renewed passport) count as satisfied if any of them is.

    Raises:
        ValueError: for unknown document types or states.
    """
    order: list[str] = []
    satisfied: set[str] = set()
    for doc_type, state, valid_until in documents:
        if doc_type not in order:
            order.append(doc_type)
        if _satisfied(doc_type, state, valid_until, as_of):
            satisfied.add(doc_type)
    return [t for t in order if t not in satisfied]


def is_complete(documents: Iterable[tuple[str, str, date | None]], as_of: date) -> bool:
    """Whether no document is open on ``as_of`` (see :func:`open_items`); true for an empty list."""
    return not open_items(documents, as_of)
