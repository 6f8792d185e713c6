"""The message catalogue: every text the system can send, as a template. Pure: no Django.

Callers name a template and pass parameters; they never pass free text. That keeps what leaves
the building reviewable in one place (a compliance officer reads this file, not every caller),
stops personal data from being pasted into an SMS by accident, and lets each parameter be
checked against the shape it must have (a login code is six digits, nothing else), so a bug
upstream cannot turn the gateway into a channel for arbitrary content.

Texts are Simplified Chinese: an SMS goes to the client's phone, not through the UI language
switch, and Chinese carriers require the signature in 【】 at the start of the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

SMS = "sms"
CHANNELS = frozenset({SMS})
_MAX_PARAM = 64


class TemplateError(ValueError):
    """Unknown template, wrong channel, or parameters that do not fit the template."""


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    channels: frozenset[str]
    text: str  # str.format placeholders, one per parameter
    params: Mapping[str, re.Pattern[str]]  # the exact shape each parameter must have
    # Parameters a developer may see in the console log in demo mode (never personal data).
    demo_visible: frozenset[str] = field(default_factory=frozenset)

    def render(self, channel: str, params: Mapping[str, str]) -> str:
        if channel not in self.channels:
            raise TemplateError(f"template {self.key!r} is not for channel {channel!r}")
        given, wanted = set(params), set(self.params)
        if given != wanted:
            raise TemplateError(
                f"template {self.key!r} takes {sorted(wanted)}, got {sorted(given)}"
            )
        for name, pattern in self.params.items():
            value = params[name]
            if not isinstance(value, str) or len(value) > _MAX_PARAM:
                raise TemplateError(f"parameter {name!r} of {self.key!r} must be a short string")
            if not pattern.fullmatch(value):
                # The value itself is not quoted: it may be something that must not be logged.
                raise TemplateError(f"parameter {name!r} does not fit template {self.key!r}")
        return self.text.format(**params)


PORTAL_LOGIN_CODE = MessageTemplate(
    key="portal_login_code",
    channels=frozenset({SMS}),
    text="【康链健康】您的客户门户登录验证码为{code}，5分钟内有效。请勿告诉他人；如非本人操作，请忽略本短信。",
    params={"code": re.compile(r"[0-9]{6}")},
    demo_visible=frozenset({"code"}),
)

# A questionnaire to fill in (careledger.questionnaires.links): the signed, expiring, single-use
# link, as the site's address plus the token. No questionnaire title (free text) in the message.
QUESTIONNAIRE_LINK = MessageTemplate(
    key="questionnaire_link",
    channels=frozenset({SMS}),
    text="【康链健康】您的健康管理团队邀请您填写一份健康问卷，请在{days}天内打开：{base}/portal/q/{token}/"
    " 该链接仅供本人使用，提交后失效。",
    params={
        "base": re.compile(r"https?://[A-Za-z0-9.-]{1,50}(:[0-9]{1,5})?"),
        "token": re.compile(r"[A-Za-z0-9_-]{40,64}"),
        "days": re.compile(r"[0-9]{1,2}"),
    },
)

# Confirming a consent given in the portal (careledger.consent): the code only, never the
# purpose or the text (the client sees those on the page they are confirming).
CONSENT_CODE = MessageTemplate(
    key="consent_code",
    channels=frozenset({SMS}),
    text="【康链健康】您正在客户门户确认一项知情同意，验证码为{code}，5分钟内有效。如非本人操作，请忽略本短信。",
    params={"code": re.compile(r"[0-9]{6}")},
    demo_visible=frozenset({"code"}),
)

TEMPLATES: dict[str, MessageTemplate] = {
    t.key: t for t in (PORTAL_LOGIN_CODE, QUESTIONNAIRE_LINK, CONSENT_CODE)
}


# Check-up bookings (careledger.booking): the day only — no package name (free text), nothing
# about the client's health; the portal shows the details and the preparation instructions.
_DAY = re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日")
BOOKING_CONFIRMED = MessageTemplate(
    key="booking_confirmed",
    channels=frozenset({SMS}),
    text="【康链健康】您已成功预约{day}的体检。检前须知与改期、取消请见客户门户。",
    params={"day": _DAY},
)
BOOKING_PROMOTED = MessageTemplate(
    key="booking_promoted",
    channels=frozenset({SMS}),
    text="【康链健康】您候补的{day}体检已有名额，预约已生效。检前须知与改期、取消请见客户门户。",
    params={"day": _DAY},
)
BOOKING_REMINDER = MessageTemplate(
    key="booking_reminder",
    channels=frozenset({SMS}),
    text="【康链健康】温馨提醒：您预约了{day}的体检，请按检前须知做好准备（如需空腹请勿进食）。",
    params={"day": _DAY},
)
TEMPLATES.update({t.key: t for t in (BOOKING_CONFIRMED, BOOKING_PROMOTED, BOOKING_REMINDER)})

# Confirming a share grant in the portal (careledger.sharing): the code only; the partner's name
# is shown on the confirmation page, not sent (the message is reviewable text, no parameters
# but the code).
SHARE_CONFIRM_CODE = MessageTemplate(
    key="share_confirm_code",
    channels=frozenset({SMS}),
    text="【康链健康】您正在授权向合作机构共享健康档案，验证码为{code}，5分钟内有效。如非本人操作，请勿告诉他人。",
    params={"code": re.compile(r"[0-9]{6}")},
    demo_visible=frozenset({"code"}),
)
TEMPLATES[SHARE_CONFIRM_CODE.key] = SHARE_CONFIRM_CODE


def get(key: str) -> MessageTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown message template {key!r}") from None
