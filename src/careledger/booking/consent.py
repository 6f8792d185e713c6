"""May the centre write to this client about a booking, on this channel?

One function, so every confirmation and reminder asks the same question. Booking messages are
reminders, so they need the consent purpose `followup_sms` ("短信随访与提醒", follow-up and
reminders by SMS) of `careledger.consent`, asked through its selector `has_consent`. Deny by
default: no consent record in force means no message, and while the consent app is not installed
at all, the answer is no for everyone (the booking itself is never refused for want of consent;
only the message is not sent, and the portal shows the booking anyway).
"""

from __future__ import annotations

import uuid

from django.apps import apps

CONSENT_APP = "careledger.consent"
SMS = "sms"


def may_notify(*, client_id: uuid.UUID | str, channel: str = SMS) -> bool:
    if channel != SMS or not apps.is_installed(CONSENT_APP):
        return False
    from careledger.consent.purposes import followup_purpose
    from careledger.consent.selectors import has_consent

    return has_consent(client_id=client_id, purpose=followup_purpose(channel))
