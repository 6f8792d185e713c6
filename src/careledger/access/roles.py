"""Roles → permissions, as a table a security officer can read (ARCHITECTURE.md §1).

Pure data. Anything not granted here is denied. Holding a permission is necessary but not
enough: client-level permissions also need a care-team link (see `careledger.access.policy`).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    CLIENT_ENROL = "client.enrol"
    CLIENT_VIEW = "client.view"
    CLIENT_UPDATE = "client.update"
    CLIENT_SEARCH = "client.search"
    CLIENT_LIST = "client.list"
    CLIENT_HISTORY = "client.history"
    TEAM_VIEW = "team.view"
    USER_VIEW = "user.view"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    ALERT_MANAGE = "audit.alert.manage"
    BREAK_GLASS = "access.break_glass"
    BREAK_GLASS_REVIEW = "access.break_glass.review"
    # Health record (健康档案) and results (检查结果 / 历年指标趋势).
    RECORD_VIEW = "record.view"
    RECORD_UPDATE = "record.update"
    OBSERVATION_VIEW = "observation.view"
    # Report sync (同步检查报告数据): running imports and configuring their sources is
    # institution-level work; resolving a quarantined result means reading what the file said
    # about a person, so it is a clinical action, checked again against the chosen client.
    EXAM_IMPORT = "exam.import"
    EXAM_SOURCE_MANAGE = "exam.source.manage"
    EXAM_QUARANTINE = "exam.quarantine"
    CATALOGUE_MAP = "catalogue.map"


# Actions that only make sense on one client, so they need the actor to share a care team with
# them. Enrolment is checked at role level first and then, with the chosen teams as the scope,
# per client; list and search are scoped by the query to the actor's teams.
CLIENT_ACTIONS = frozenset(
    {
        Action.CLIENT_VIEW,
        Action.CLIENT_UPDATE,
        Action.CLIENT_HISTORY,
        Action.BREAK_GLASS,
        Action.RECORD_VIEW,
        Action.RECORD_UPDATE,
        Action.OBSERVATION_VIEW,
    }
)

# What an active break-glass grant opens: reading the record, never changing it.
EMERGENCY_ACTIONS = frozenset(
    {Action.CLIENT_VIEW, Action.CLIENT_HISTORY, Action.RECORD_VIEW, Action.OBSERVATION_VIEW}
)

PERMISSIONS: dict[str, frozenset[Action]] = {
    "health_manager": frozenset(
        {
            Action.CLIENT_ENROL,
            Action.CLIENT_VIEW,
            Action.CLIENT_UPDATE,
            Action.CLIENT_SEARCH,
            Action.CLIENT_LIST,
            Action.CLIENT_HISTORY,
            Action.BREAK_GLASS,
            Action.RECORD_VIEW,
            Action.RECORD_UPDATE,
            Action.OBSERVATION_VIEW,
            Action.EXAM_IMPORT,
            Action.EXAM_QUARANTINE,
        }
    ),
    "doctor": frozenset(
        {
            Action.CLIENT_VIEW,
            Action.CLIENT_SEARCH,
            Action.CLIENT_LIST,
            Action.CLIENT_HISTORY,
            Action.BREAK_GLASS,
            Action.RECORD_VIEW,
            Action.RECORD_UPDATE,
            Action.OBSERVATION_VIEW,
        }
    ),
    # Follow-up nurses read the record and results they call about; they do not edit them.
    "nurse": frozenset(
        {
            Action.CLIENT_VIEW,
            Action.CLIENT_SEARCH,
            Action.CLIENT_LIST,
            Action.BREAK_GLASS,
            Action.RECORD_VIEW,
            Action.OBSERVATION_VIEW,
        }
    ),
    # Separation of duties: administrators and auditors see no client content by default. The
    # admin runs imports and maps codes (counts and codes, never a person's results).
    "institution_admin": frozenset(
        {
            Action.TEAM_VIEW,
            Action.USER_VIEW,
            Action.EXAM_IMPORT,
            Action.EXAM_SOURCE_MANAGE,
            Action.CATALOGUE_MAP,
        }
    ),
    "auditor": frozenset(
        {
            Action.AUDIT_VIEW,
            Action.AUDIT_EXPORT,
            Action.ALERT_MANAGE,
            Action.BREAK_GLASS_REVIEW,
            Action.TEAM_VIEW,
            Action.USER_VIEW,
        }
    ),
    # Analysts work on de-identified cohorts only (a later capability), never on client pages.
    "analyst": frozenset(),
    # Portal clients reach only their own record, through the portal's own routes (later).
    "client": frozenset(),
}

# Roles that may see a client but never a full identifier (name, ID number, phone, address).
MASKED_ROLES = frozenset({"nurse"})


def permits(role: str, action: Action) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def masks_identifiers(role: str) -> bool:
    return role in MASKED_ROLES
