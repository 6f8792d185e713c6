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
    # Store (体检商城) and membership entitlements (会员卡权益). What a client bought says
    # something about their health, so orders are client data, read and changed by the care
    # team; taking money and giving it back are separate actions so a centre can split them.
    # The admin configures card levels and their entitlements (no client in sight).
    ORDER_VIEW = "order.view"
    ORDER_MANAGE = "order.manage"
    PAYMENT_CONFIRM = "payment.confirm"
    REFUND_ISSUE = "refund.issue"
    MEMBERSHIP_MANAGE = "membership.manage"
    MEMBERSHIP_VIEW = "membership.view"
    MEMBERSHIP_REDEEM = "membership.redeem"
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
    # Questionnaires (问卷调查 / 问诊表): building and publishing them is institution-level work;
    # reading and filling a client's responses is clinical.
    QUESTIONNAIRE_MANAGE = "questionnaire.manage"
    QUESTIONNAIRE_VIEW = "questionnaire.response.view"
    QUESTIONNAIRE_RESPOND = "questionnaire.response.write"
    # Tags (自动设置标签): rules are configuration (the admin sees counts, never people); a
    # client's tags are clinical, and manual tags are applied by the care team.
    TAG_RULE_MANAGE = "tag.rule.manage"
    TAG_VIEW = "tag.view"
    TAG_APPLY = "tag.apply"
    # Risk assessment (疾病风险评估).
    RISK_VIEW = "risk.view"
    RISK_ASSESS = "risk.assess"
    # Advice (饮食/运动/心理健康建议): the catalogue is configuration; a client's sheet is clinical.
    ADVICE_MANAGE = "advice.manage"
    ADVICE_VIEW = "advice.view"
    ADVICE_ISSUE = "advice.issue"
    # Printed health report (打印健康报告): printing or downloading a client's report PDF, with
    # a stated purpose, watermarked with the printer and sealed; the care team's clinical roles
    # (the nurse's copy shows masked identifiers). Admin, auditor and analyst never print.
    REPORT_PRINT = "report.print"
    # Bulk export with two-person approval (批量导出): institution-level work, never on one
    # client's page. A request names purpose and scope; a second user of the same institution
    # (never the requester) approves; only the requester downloads, with a fresh MFA code.
    # Identifiers leave only for a purpose that needs them, asked by a clinical role for clients
    # of their own care teams (`export.identified`); the analyst never holds it.
    EXPORT_REQUEST = "export.request"
    EXPORT_IDENTIFIED = "export.identified"
    EXPORT_APPROVE = "export.approve"
    EXPORT_DOWNLOAD = "export.download"
    # De-identified research export (科研去标识化导出): consented clients only, pseudonyms under
    # a per-project key; projects are configuration kept by the institution admin.
    RESEARCH_EXPORT = "research.export"
    RESEARCH_PROJECT_MANAGE = "research.project.manage"
    # FHIR R4 API (/fhir/R4/): staff read a client's resources under the same care-team rule as
    # the pages (the Bundle import is EXAM_IMPORT, as for any report file).
    FHIR_READ = "fhir.read"
    # Client-controlled sharing (跨机构共享): the care team sees a client's share grants and who
    # fetched under them, and creates or revokes a grant on the client's behalf only with the
    # client's recorded consent (purpose share_partner). A partner institution, signed in by
    # OAuth 2 client credentials, fetches under a grant (role "partner", nothing else).
    SHARE_VIEW = "share.view"
    SHARE_MANAGE = "share.manage"
    SHARE_FETCH = "share.fetch"
    # Registering partner institutions and their OAuth clients is configuration (no client data).
    PARTNER_MANAGE = "partner.manage"
    # Check-up packages and booking (体检套餐 · 体检预约): packages, branches, calendars and
    # capacity are configuration (the admin sees counts, never who booked); a client's
    # appointments are client data, booked, moved and checked in by their care team.
    PACKAGE_MANAGE = "package.manage"
    BOOKING_VIEW = "booking.view"
    BOOKING_MANAGE = "booking.manage"
    BOOKING_CHECKIN = "booking.checkin"
    # Consent (知情同意): the texts are configuration (the admin writes and publishes them); a
    # client's consents are clinical-administrative: the care team sees them (nurses too, to know
    # which channels they may use) and records them at the desk or withdraws them on request.
    CONSENT_VIEW = "consent.view"
    CONSENT_RECORD = "consent.record"
    CONSENT_TEXT_MANAGE = "consent.text.manage"
    # Retention and erasure (保存期限与删除): the policy, legal holds and archive runs are
    # institution-level; an erasure is requested by the client's care team and approved by a
    # second person (admin or security officer, never the requester); reading an archived
    # client needs a stated reason (a time-boxed grant, like break-glass, for the care team).
    RETENTION_MANAGE = "retention.manage"
    ERASURE_REQUEST = "retention.erasure.request"
    ERASURE_APPROVE = "retention.erasure.approve"
    ARCHIVE_ACCESS = "retention.archive.access"
    # Follow-up (自动随访 · 随访记录): plans are configuration (the admin writes and publishes
    # them, and sees counts, never people). The work queue lists the asker's own care teams'
    # tasks (role level; the query is scoped to their teams, masked for nurses); a client's
    # follow-up history and tasks are clinical: the care team views them and performs them
    # (claims a task, dials through the gateway, records the outcome). Handing a task to a
    # named colleague is the health manager's (team leads see escalations in their queue).
    FOLLOWUP_PLAN_MANAGE = "followup.plan.manage"
    FOLLOWUP_QUEUE = "followup.queue"
    FOLLOWUP_VIEW = "followup.view"
    FOLLOWUP_PERFORM = "followup.perform"
    FOLLOWUP_ASSIGN = "followup.assign"


# Actions that only make sense on one client, so they need the actor to share a care team with
# them. Enrolment is checked at role level first and then, with the chosen teams as the scope,
# per client; list and search are scoped by the query to the actor's teams.
CLIENT_ACTIONS = frozenset(
    {
        Action.ORDER_VIEW,
        Action.ORDER_MANAGE,
        Action.PAYMENT_CONFIRM,
        Action.REFUND_ISSUE,
        Action.MEMBERSHIP_VIEW,
        Action.MEMBERSHIP_REDEEM,
        Action.CLIENT_VIEW,
        Action.CLIENT_UPDATE,
        Action.CLIENT_HISTORY,
        Action.BREAK_GLASS,
        Action.RECORD_VIEW,
        Action.RECORD_UPDATE,
        Action.OBSERVATION_VIEW,
        Action.QUESTIONNAIRE_VIEW,
        Action.QUESTIONNAIRE_RESPOND,
        Action.TAG_VIEW,
        Action.TAG_APPLY,
        Action.RISK_VIEW,
        Action.RISK_ASSESS,
        Action.ADVICE_VIEW,
        Action.ADVICE_ISSUE,
        Action.REPORT_PRINT,
        Action.BOOKING_VIEW,
        Action.BOOKING_MANAGE,
        Action.BOOKING_CHECKIN,
        Action.CONSENT_VIEW,
        Action.CONSENT_RECORD,
        Action.ERASURE_REQUEST,
        Action.ARCHIVE_ACCESS,
        Action.FHIR_READ,
        Action.SHARE_VIEW,
        Action.SHARE_MANAGE,
        Action.SHARE_FETCH,
        Action.FOLLOWUP_VIEW,
        Action.FOLLOWUP_PERFORM,
        Action.FOLLOWUP_ASSIGN,
    }
)

# What an active break-glass grant opens: reading the record, never changing it.
EMERGENCY_ACTIONS = frozenset(
    {
        Action.CLIENT_VIEW,
        Action.CLIENT_HISTORY,
        Action.RECORD_VIEW,
        Action.OBSERVATION_VIEW,
        Action.QUESTIONNAIRE_VIEW,
        Action.TAG_VIEW,
        Action.RISK_VIEW,
        Action.ADVICE_VIEW,
        Action.CONSENT_VIEW,
        Action.FOLLOWUP_VIEW,
    }
)

# The role a partner institution's OAuth client acts as (not a `User` role: see sharing).
PARTNER = "partner"

PERMISSIONS: dict[str, frozenset[Action]] = {
    "health_manager": frozenset(
        {
            # Bulk exports of their own care teams' clients (identifiers only when the
            # approved purpose needs them).
            Action.EXPORT_REQUEST,
            Action.EXPORT_IDENTIFIED,
            Action.EXPORT_DOWNLOAD,
            # The health manager runs the client relationship: orders, desk payments, refunds
            # and redeeming card entitlements (store, membership).
            Action.ORDER_VIEW,
            Action.ORDER_MANAGE,
            Action.PAYMENT_CONFIRM,
            Action.REFUND_ISSUE,
            Action.MEMBERSHIP_VIEW,
            Action.MEMBERSHIP_REDEEM,
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
            Action.QUESTIONNAIRE_VIEW,
            Action.QUESTIONNAIRE_RESPOND,
            Action.TAG_VIEW,
            Action.TAG_APPLY,
            Action.RISK_VIEW,
            Action.RISK_ASSESS,
            Action.ADVICE_VIEW,
            Action.ADVICE_ISSUE,
            Action.REPORT_PRINT,
            Action.FHIR_READ,
            Action.SHARE_VIEW,
            Action.SHARE_MANAGE,
            Action.BOOKING_VIEW,
            Action.BOOKING_MANAGE,
            Action.BOOKING_CHECKIN,
            Action.CONSENT_VIEW,
            Action.CONSENT_RECORD,
            Action.ERASURE_REQUEST,
            Action.ARCHIVE_ACCESS,
            Action.FOLLOWUP_QUEUE,
            Action.FOLLOWUP_VIEW,
            Action.FOLLOWUP_PERFORM,
            Action.FOLLOWUP_ASSIGN,
        }
    ),
    "doctor": frozenset(
        {
            Action.EXPORT_REQUEST,
            Action.EXPORT_IDENTIFIED,
            Action.EXPORT_DOWNLOAD,
            Action.RESEARCH_EXPORT,
            # A doctor sees and uses what a client's card entitles them to (a consultation
            # left?); money is not theirs to handle.
            Action.MEMBERSHIP_VIEW,
            Action.MEMBERSHIP_REDEEM,
            Action.CLIENT_VIEW,
            Action.CLIENT_SEARCH,
            Action.CLIENT_LIST,
            Action.CLIENT_HISTORY,
            Action.BREAK_GLASS,
            Action.RECORD_VIEW,
            Action.RECORD_UPDATE,
            Action.OBSERVATION_VIEW,
            Action.QUESTIONNAIRE_VIEW,
            Action.QUESTIONNAIRE_RESPOND,
            Action.TAG_VIEW,
            Action.TAG_APPLY,
            Action.RISK_VIEW,
            Action.RISK_ASSESS,
            Action.ADVICE_VIEW,
            Action.ADVICE_ISSUE,
            Action.REPORT_PRINT,
            Action.FHIR_READ,
            Action.SHARE_VIEW,
            Action.SHARE_MANAGE,
            Action.BOOKING_VIEW,
            Action.CONSENT_VIEW,
            Action.CONSENT_RECORD,
            Action.ARCHIVE_ACCESS,
            Action.FOLLOWUP_QUEUE,
            Action.FOLLOWUP_VIEW,
            Action.FOLLOWUP_PERFORM,
        }
    ),
    # Follow-up nurses read the record and results they call about; they do not edit them.
    # They fill questionnaires during a call (the follow-up script), and see tags, risks and
    # advice; they apply no tags, run no assessment and issue no advice. They book, move and
    # check in check-ups for their teams' clients (no front-desk role exists: the nurse is it).
    "nurse": frozenset(
        {
            # A call agent answers "what did I order, how many follow-ups are left" and records
            # a follow-up against the card; no money.
            Action.ORDER_VIEW,
            Action.MEMBERSHIP_VIEW,
            Action.MEMBERSHIP_REDEEM,
            Action.CLIENT_VIEW,
            Action.CLIENT_SEARCH,
            Action.CLIENT_LIST,
            Action.BREAK_GLASS,
            Action.RECORD_VIEW,
            Action.OBSERVATION_VIEW,
            Action.QUESTIONNAIRE_VIEW,
            Action.QUESTIONNAIRE_RESPOND,
            Action.TAG_VIEW,
            Action.RISK_VIEW,
            Action.ADVICE_VIEW,
            Action.REPORT_PRINT,  # masked identifiers in the PDF, as on her pages
            Action.BOOKING_VIEW,
            Action.BOOKING_MANAGE,
            Action.BOOKING_CHECKIN,
            Action.CONSENT_VIEW,
            Action.ARCHIVE_ACCESS,
            # The follow-up queue is their daily work (masked identifiers, dialled through the
            # click-to-call gateway, never the raw number).
            Action.FOLLOWUP_QUEUE,
            Action.FOLLOWUP_VIEW,
            Action.FOLLOWUP_PERFORM,
        }
    ),
    # Separation of duties: administrators and auditors see no client content by default. The
    # admin runs imports and maps codes (counts and codes, never a person's results).
    "institution_admin": frozenset(
        {
            # The second person of a bulk export: sees purpose, scope and counts, never rows.
            Action.EXPORT_APPROVE,
            Action.RESEARCH_PROJECT_MANAGE,
            Action.MEMBERSHIP_MANAGE,  # card levels and their entitlements (configuration)
            Action.TEAM_VIEW,
            Action.USER_VIEW,
            Action.EXAM_IMPORT,
            Action.EXAM_SOURCE_MANAGE,
            Action.CATALOGUE_MAP,
            Action.QUESTIONNAIRE_MANAGE,
            Action.TAG_RULE_MANAGE,
            Action.ADVICE_MANAGE,
            Action.PARTNER_MANAGE,
            Action.PACKAGE_MANAGE,
            Action.CONSENT_TEXT_MANAGE,
            Action.RETENTION_MANAGE,
            Action.ERASURE_APPROVE,
            Action.FOLLOWUP_PLAN_MANAGE,
        }
    ),
    "auditor": frozenset(
        {
            # As security officer (安全员), the other possible second person of an export.
            Action.EXPORT_APPROVE,
            Action.AUDIT_VIEW,
            Action.AUDIT_EXPORT,
            Action.ALERT_MANAGE,
            Action.BREAK_GLASS_REVIEW,
            Action.ERASURE_APPROVE,
            Action.TEAM_VIEW,
            Action.USER_VIEW,
        }
    ),
    # Analysts work on de-identified cohorts only, never on client pages: they request
    # de-identified and research exports (never `export.identified`) and download their own.
    "analyst": frozenset(
        {
            Action.EXPORT_REQUEST,
            Action.EXPORT_DOWNLOAD,
            Action.RESEARCH_EXPORT,
        }
    ),
    # Portal clients reach only their own record, through the portal's own routes (later).
    "client": frozenset(),
    # A partner institution (合作机构) is not a user: its OAuth client acts as this role and
    # reads only what a client's share grant allows (see `policy.decide`, careledger.sharing).
    PARTNER: frozenset({Action.SHARE_FETCH}),
}

# Roles that may see a client but never a full identifier (name, ID number, phone, address).
MASKED_ROLES = frozenset({"nurse"})


def permits(role: str, action: Action) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def masks_identifiers(role: str) -> bool:
    return role in MASKED_ROLES
