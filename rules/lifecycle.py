"""The case lifecycle and the permission table (role × action × stage × institution), in one place.

Used by the workflow validators (authoritative) and by the API and the UI (to answer early and to
offer only allowed actions). Pure: no I/O, no project imports. DESIGN.md "Case lifecycle" is the source.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    INTAKE = "intake"
    DOCUMENT_COLLECTION = "document_collection"
    AUTHORITY_REVIEW = "authority_review"
    JOINT_MEETING = "joint_meeting"
    DECISION = "decision"
    CLOSED = "closed"


class Role(StrEnum):
    COUNSELOR = "counselor"
    AUTHORITY_LIAISON = "authority_liaison"
    AUTHORITY_LEAD = "authority_lead"
    OPS = "ops"


class Institution(StrEnum):
    COUNSELING = "counseling"  # Beratungsstelle
    AUTHORITY = "authority"  # Ausländerbehörde
    OPERATIONS = "operations"  # the service's operators: no case content, only process data


ROLE_INSTITUTION: dict[Role, Institution] = {
    Role.COUNSELOR: Institution.COUNSELING,
    Role.AUTHORITY_LIAISON: Institution.AUTHORITY,
    Role.AUTHORITY_LEAD: Institution.AUTHORITY,
    Role.OPS: Institution.OPERATIONS,
}

OPEN_STAGES = (
    Stage.INTAKE,
    Stage.DOCUMENT_COLLECTION,
    Stage.AUTHORITY_REVIEW,
    Stage.JOINT_MEETING,
    Stage.DECISION,
)
ALL_STAGES = (*OPEN_STAGES, Stage.CLOSED)

# action -> stages in which it may happen (DESIGN.md table).
ACTION_STAGES: dict[str, tuple[Stage, ...]] = {
    "complete_intake": (Stage.INTAKE,),
    "record_document": (Stage.DOCUMENT_COLLECTION,),
    "submit_to_authority": (Stage.DOCUMENT_COLLECTION,),
    "acknowledge": (Stage.AUTHORITY_REVIEW,),
    "request_documents": (Stage.AUTHORITY_REVIEW,),
    "refer_to_meeting": (Stage.DOCUMENT_COLLECTION, Stage.AUTHORITY_REVIEW),
    "prepare_decision": (Stage.AUTHORITY_REVIEW, Stage.DECISION),
    "decide": (Stage.AUTHORITY_REVIEW, Stage.DECISION),
    "record_interim": OPEN_STAGES,
    "withdraw": OPEN_STAGES,
    "add_note": ALL_STAGES,
    "revoke_consent": ALL_STAGES,
}
ACTIONS = tuple(ACTION_STAGES)

# action -> roles that may perform it. The authority acts only on cases it can see (consent and
# submission), which is the case-visibility rule in `can_see`, not part of this table.
ACTION_ROLES: dict[str, frozenset[Role]] = {
    "complete_intake": frozenset({Role.COUNSELOR}),
    "record_document": frozenset({Role.COUNSELOR}),
    "submit_to_authority": frozenset({Role.COUNSELOR}),
    "acknowledge": frozenset({Role.AUTHORITY_LIAISON}),
    "request_documents": frozenset({Role.AUTHORITY_LIAISON}),
    "refer_to_meeting": frozenset({Role.COUNSELOR, Role.AUTHORITY_LIAISON, Role.AUTHORITY_LEAD}),
    "prepare_decision": frozenset({Role.AUTHORITY_LIAISON}),
    "decide": frozenset({Role.AUTHORITY_LIAISON, Role.AUTHORITY_LEAD}),
    "record_interim": frozenset({Role.AUTHORITY_LIAISON}),
    "withdraw": frozenset({Role.COUNSELOR}),
    "add_note": frozenset({Role.COUNSELOR, Role.AUTHORITY_LIAISON, Role.AUTHORITY_LEAD}),
    "revoke_consent": frozenset({Role.COUNSELOR}),
}

# Meeting minutes (signals to the case) may be recorded by these roles.
MINUTES_ROLES = frozenset({Role.COUNSELOR, Role.AUTHORITY_LIAISON, Role.AUTHORITY_LEAD})
MEETING_OUTCOMES = ("back_to_review", "request_documents", "decision_ready")

# Actions that count as "the authority acted" for the review SLA.
AUTHORITY_ACTIONS = frozenset({"acknowledge", "request_documents", "prepare_decision", "decide", "record_interim"})


class Verdict(StrEnum):
    ALLOWED = "allowed"
    UNKNOWN_ACTION = "unknown_action"
    FORBIDDEN = "forbidden"  # role/institution may never do this: 403
    WRONG_STAGE = "wrong_stage"  # not in the current stage: 409


def check(role: str, institution: str, action: str, stage: str) -> Verdict:
    """The permission table as one decision: may `role` of `institution` do `action` in `stage`?"""
    if action not in ACTION_STAGES:
        return Verdict.UNKNOWN_ACTION
    try:
        r = Role(role)
    except ValueError:
        return Verdict.FORBIDDEN
    if r not in ACTION_ROLES[action] or ROLE_INSTITUTION[r] != institution:
        return Verdict.FORBIDDEN
    if stage not in ACTION_STAGES[action]:
        return Verdict.WRONG_STAGE
    return Verdict.ALLOWED


def allowed_actions(role: str, institution: str, stage: str) -> list[str]:
    """The actions this role may take in this stage, in table order."""
    return [a for a in ACTIONS if check(role, institution, a, stage) is Verdict.ALLOWED]


def can_see(institution: str, *, consent_given: bool, submitted: bool) -> bool:
    """Case visibility: the authority sees a case only once submitted to it with recorded consent.

    The counseling service sees its cases; operations see process data of every case (the API gives
    them no personal data).
    """
    if institution == Institution.AUTHORITY:
        return consent_given and submitted
    return institution in (Institution.COUNSELING, Institution.OPERATIONS)
