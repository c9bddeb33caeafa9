"""Tests of document checklists per pathway (DOMAIN.md section 2 step 4) and completeness."""

from __future__ import annotations

from datetime import date

import pytest

from rules.checklists import (
    DOCUMENT_STATES,
    DOCUMENT_TYPES,
    EXPIRING,
    UnknownPathway,
    checklist,
    document_state_counts_as_complete,
    is_complete,
    open_items,
)
from rules.eligibility import PATHWAYS

AS_OF = date(2026, 11, 2)


def test_every_pathway_has_a_checklist_of_known_types() -> None:
    """Each pathway of the AufenthG has a checklist drawn from DOCUMENT_TYPES, without duplicates."""
    for pathway in PATHWAYS:
        items = checklist(pathway)
        assert items and set(items) <= set(DOCUMENT_TYPES), pathway
        assert len(items) == len(set(items)), pathway


def test_labels() -> None:
    """German labels for the documents of DOMAIN.md section 2 step 4."""
    assert DOCUMENT_TYPES["passport"] == "Reisepass"
    assert DOCUMENT_TYPES["payslips"] == "Lohnabrechnungen (letzte 3)"
    assert DOCUMENT_TYPES["civic_test"] == "Ergebnis „Leben in Deutschland“"
    assert DOCUMENT_TYPES["fdgo_declaration"] == "Unterschriebene FDGO-Erklärung"


def test_25b_checklist() -> None:
    """§25b Abs. 1 AufenthG: residence, A2, civic knowledge, livelihood from work, FDGO."""
    assert checklist("25b") == [
        "passport", "duldung_history", "employment_contract", "payslips", "rent_contract",
        "language_certificate", "civic_test", "health_insurance", "photo", "fdgo_declaration",
    ]


def test_25a_checklist_has_school_records() -> None:
    """§25a Abs. 1 S. 1 Nr. 2 AufenthG: school attendance is shown by school records."""
    items = checklist("25a")
    assert items[:3] == ["passport", "duldung_history", "school_records"]


def test_104c_checklist_has_no_passport() -> None:
    """§104c Abs. 1 AufenthG: no passport, identity or livelihood requirement; FDGO declaration needed."""
    items = checklist("104c")
    assert "passport" not in items and "fdgo_declaration" in items


def test_checklist_returns_a_fresh_list() -> None:
    """Callers may change the list they get without changing the rules (no § - purity of the rules)."""
    checklist("25b").append("photo")
    assert checklist("25b").count("photo") == 1


def test_unknown_pathway() -> None:
    """Only the pathways of the AufenthG modelled here have checklists."""
    with pytest.raises(UnknownPathway):
        checklist("18a")
    assert issubclass(UnknownPathway, ValueError)


@pytest.mark.parametrize(("state", "complete"), [("missing", False), ("received", True), ("verified", True),
                                                 ("expired", False), ("waived", True)])
def test_document_state_counts_as_complete(state: str, complete: bool) -> None:
    """DOMAIN.md step 4: received, verified or waived documents no longer block the submission."""
    assert state in DOCUMENT_STATES
    assert document_state_counts_as_complete(state) is complete


def test_document_state_unknown() -> None:
    """Only the document states of API.md exist."""
    with pytest.raises(ValueError):
        document_state_counts_as_complete("lost")


def test_expired_passport_is_open() -> None:
    """§3 Abs. 1, §5 Abs. 1 Nr. 4 AufenthG: an expired passport does not fulfil the passport duty."""
    docs = [("passport", "verified", date(2026, 11, 1)), ("photo", "received", None)]
    assert not is_complete(docs, AS_OF)
    assert open_items(docs, AS_OF) == ["passport"]


def test_passport_valid_through_its_last_day() -> None:
    """§188 Abs. 1 BGB analogy: a document valid until a day is valid for the whole of that day."""
    assert is_complete([("passport", "verified", AS_OF)], AS_OF)


def test_renewed_passport_satisfies_type() -> None:
    """§3 AufenthG: a renewed passport replaces the expired one recorded earlier."""
    docs = [("passport", "verified", date(2025, 1, 1)), ("passport", "received", date(2031, 1, 1))]
    assert is_complete(docs, AS_OF)


def test_waived_and_non_expiring() -> None:
    """§5 Abs. 3 S. 2 AufenthG: a waived passport is complete; language certificates do not expire."""
    assert "passport" in EXPIRING and "language_certificate" not in EXPIRING
    docs = [("passport", "waived", date(2020, 1, 1)), ("language_certificate", "verified", date(2020, 1, 1)),
            ("passport_efforts", "received", None)]
    assert is_complete(docs, AS_OF)


def test_open_items_order_and_states() -> None:
    """DOMAIN.md step 4: missing and expired documents are open, in the order recorded."""
    docs = [("photo", "missing", None), ("payslips", "received", None), ("rent_contract", "expired", None),
            ("photo", "missing", None)]
    assert open_items(docs, AS_OF) == ["photo", "rent_contract"]
    assert is_complete([], AS_OF)


def test_unknown_document_type_rejected() -> None:
    """Only DOCUMENT_TYPES are known (API.md record_document)."""
    with pytest.raises(ValueError):
        open_items([("diploma", "received", None)], AS_OF)
