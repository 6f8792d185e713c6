"""The consent purpose vocabulary (知情同意的目的). Pure: no Django.

This is the one list other apps name when they ask `careledger.consent.selectors.has_consent`:

    health_management  健康管理服务        processing the record for health management at all
    sensitive_pi       敏感个人信息(单独同意) PIPL Art. 29 separate consent for sensitive PI
    followup_phone     电话随访            follow-up by telephone
    followup_sms       短信随访与提醒       follow-up and reminders by SMS
    followup_wechat    微信随访            follow-up through WeChat
    research           科研使用(去标识化)   use of de-identified data for research
    share_partner      向合作机构共享       sharing with ONE named partner institution
                                           (needs `partner_institution_id`)

Follow-up channels map to purposes through `followup_purpose(channel)`, so a reminder sender
asks `has_consent(client_id=…, purpose=followup_purpose("sms"))` and never spells a code itself.
"""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    HEALTH_MANAGEMENT = "health_management"
    SENSITIVE_PI = "sensitive_pi"
    FOLLOWUP_PHONE = "followup_phone"
    FOLLOWUP_SMS = "followup_sms"
    FOLLOWUP_WECHAT = "followup_wechat"
    RESEARCH = "research"
    SHARE_PARTNER = "share_partner"


# Purposes that are only meaningful towards one named recipient.
PARTNER_PURPOSES = frozenset({Purpose.SHARE_PARTNER})

FOLLOWUP_CHANNELS: dict[str, Purpose] = {
    "phone": Purpose.FOLLOWUP_PHONE,
    "sms": Purpose.FOLLOWUP_SMS,
    "wechat": Purpose.FOLLOWUP_WECHAT,
}

# Chinese first (the UI translates through Django i18n; these are for the FHIR export and
# for pure code that has no request language).
LABELS_ZH: dict[Purpose, str] = {
    Purpose.HEALTH_MANAGEMENT: "健康管理服务",
    Purpose.SENSITIVE_PI: "敏感个人信息处理（单独同意）",
    Purpose.FOLLOWUP_PHONE: "电话随访",
    Purpose.FOLLOWUP_SMS: "短信随访与提醒",
    Purpose.FOLLOWUP_WECHAT: "微信随访",
    Purpose.RESEARCH: "科研使用（去标识化）",
    Purpose.SHARE_PARTNER: "向合作机构共享",
}

# HL7 v3 ActReason / purpose-of-use codes for the FHIR Consent `provision.purpose`.
FHIR_PURPOSE: dict[Purpose, tuple[str, str]] = {
    Purpose.HEALTH_MANAGEMENT: ("TREAT", "treatment"),
    Purpose.SENSITIVE_PI: ("TREAT", "treatment"),
    Purpose.FOLLOWUP_PHONE: ("PATRQT", "patient requested"),
    Purpose.FOLLOWUP_SMS: ("PATRQT", "patient requested"),
    Purpose.FOLLOWUP_WECHAT: ("PATRQT", "patient requested"),
    Purpose.RESEARCH: ("HRESCH", "healthcare research"),
    Purpose.SHARE_PARTNER: ("COC", "continuity of care"),
}


class PurposeError(ValueError):
    """An unknown purpose, or a partner given (or missing) where the purpose says otherwise."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse(purpose: str, partner_institution_id: object | None) -> Purpose:
    """The purpose, checked against whether it needs a named partner."""
    try:
        chosen = Purpose(purpose)
    except ValueError:
        raise PurposeError("unknown_purpose", f"unknown consent purpose {purpose!r}") from None
    if chosen in PARTNER_PURPOSES and partner_institution_id is None:
        raise PurposeError("partner_required", f"{chosen} needs a partner institution")
    if chosen not in PARTNER_PURPOSES and partner_institution_id is not None:
        raise PurposeError("partner_not_allowed", f"{chosen} takes no partner institution")
    return chosen


def followup_purpose(channel: str) -> Purpose:
    try:
        return FOLLOWUP_CHANNELS[channel]
    except KeyError:
        raise PurposeError(
            "unknown_channel", f"no consent purpose for channel {channel!r}"
        ) from None
