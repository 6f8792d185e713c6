"""Consents as FHIR R4 Consent resources (pure: no Django, no database).

One resource per consent row, so the history is the list: a consent in force is `active`, a
withdrawn one `inactive` with `provision.period.end` set to the moment of withdrawal. `scope`
is `patient-privacy` for sharing and research and `treatment` otherwise; `category` is LOINC
59284-0 (consent document) plus this system's purpose code; `policyRule` names PIPL and, for
`sensitive_pi`, its Art. 29 separate consent. The text the client agreed to is named by id,
version and SHA-256 (`sourceAttachment.hash` is base64 of the SHA-256 digest, as FHIR's
Attachment wants); the desk reference is not exported (it is a sealed pointer to paper, which
the receiver cannot open). A partner is an `Organization` reference in `provision.actor`.

Validated against fhir.resources' R4B Consent model (wire-compatible with R4 for Consent) by
`validated()`, which the export calls on every resource.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any

from careledger.consent.purposes import FHIR_PURPOSE, LABELS_ZH, Purpose

PURPOSE_SYSTEM = "urn:careledger:codesystem:consent-purpose"
TEXT_SYSTEM = "urn:careledger:consent-text"
METHOD_SYSTEM = "urn:careledger:codesystem:consent-method"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
PRIVACY = frozenset({Purpose.SHARE_PARTNER, Purpose.RESEARCH})


def _time(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def consent_resource(
    *,
    id: str,
    client_id: str,
    institution_id: str,
    purpose: str,
    partner_institution_id: str | None,
    partner_name: str,
    text_id: str,
    text_version: int,
    text_title: str,
    text_sha256: str,
    method: str,
    given_at: dt.datetime,
    withdrawn_at: dt.datetime | None,
) -> dict[str, Any]:
    chosen = Purpose(purpose)
    scope = "patient-privacy" if chosen in PRIVACY else "treatment"
    code, display = FHIR_PURPOSE[chosen]
    period: dict[str, str] = {"start": _time(given_at)}
    if withdrawn_at is not None:
        period["end"] = _time(withdrawn_at)
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "purpose": [{"system": ACT_REASON, "code": code, "display": display}],
    }
    if partner_institution_id:
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "reference": {
                    "reference": f"Organization/{partner_institution_id}",
                    **({"display": partner_name} if partner_name else {}),
                },
            }
        ]
    rule = "PIPL Art. 29 (separate consent)" if chosen == Purpose.SENSITIVE_PI else "PIPL Art. 14"
    return {
        "resourceType": "Consent",
        "id": id,
        "status": "inactive" if withdrawn_at is not None else "active",
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": scope}]},
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0"}]},
            {
                "coding": [
                    {"system": PURPOSE_SYSTEM, "code": chosen.value, "display": LABELS_ZH[chosen]}
                ]
            },
        ],
        "patient": {"reference": f"Patient/{client_id}"},
        "dateTime": _time(given_at),
        "organization": [{"reference": f"Organization/{institution_id}"}],
        "sourceAttachment": {
            "contentType": "text/plain;charset=utf-8",
            "url": f"{TEXT_SYSTEM}:{text_id}:v{text_version}",
            "title": text_title,
            "hash": base64.b64encode(bytes.fromhex(text_sha256)).decode("ascii"),
        },
        "policyRule": {"text": rule},
        "verification": [
            {
                "verified": True,
                "verificationDate": _time(given_at),
                "extension": [
                    {"url": METHOD_SYSTEM, "valueCode": method},
                ],
            }
        ],
        "provision": provision,
    }


def validated(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource after a round trip through the R4B model (raises if it is not valid)."""
    from fhir.resources.R4B.consent import Consent

    return Consent.model_validate(dict(resource)).model_dump(mode="json", exclude_none=True)


def bundle(resources: list[dict[str, Any]], *, client_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "total": len(resources),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        "meta": {"tag": [{"system": "urn:careledger:patient", "code": client_id}]},
    }
