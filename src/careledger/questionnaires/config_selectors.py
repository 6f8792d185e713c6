"""Reads of questionnaire definitions for the institution admin (configuration, no one's data):
`permissions.CONFIGURE`, scoped to the admin's own institution (another institution's id is
simply not found). The built-ins are loaded on first use."""

from __future__ import annotations

import uuid

from careledger.accounts.models import User
from careledger.questionnaires import config_services
from careledger.questionnaires.models import Questionnaire


def list_definitions(actor: User) -> list[Questionnaire]:
    config_services.check_can_configure(actor)
    config_services.ensure_builtin(institution_id=actor.institution_id)
    return list(
        Questionnaire.objects.filter(institution_id=actor.institution_id).order_by(
            "title", "url", "-version"
        )
    )


def get_definition(actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    config_services.check_can_configure(actor)
    return Questionnaire.objects.get(pk=questionnaire_id, institution_id=actor.institution_id)
