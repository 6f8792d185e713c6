"""A partner fetches a signed share Bundle and checks it offline; every way of getting it wrong
is refused, and every refusal is in the ledger with its reason."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone
from tests.sharing.conftest import consent, grant_input, register, token

from careledger.ledger.models import LedgerEntry
from careledger.sharing import jws, services
from careledger.sharing.models import ShareFetch, ShareGrant
from careledger.sharing.verify import verify_share

pytestmark = pytest.mark.django_db


def bearer(value: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def fetch(http, grant_id, access_token):  # type: ignore[no-untyped-def]
    return http.get(f"/fhir/R4/$share/{grant_id}", **bearer(access_token))


def published(http):  # type: ignore[no-untyped-def]
    return jws.keys_from_jwks(http.get("/fhir/R4/.well-known/jwks.json").json())


def refusals(partner, reason: str) -> int:
    return sum(
        json.loads(e.leaf)["detail"].get("reason") == reason
        for e in LedgerEntry.objects.filter(actor_id=str(partner.id), outcome="denied")
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_fetched_share_verifies_offline_and_is_ledgered(client, shared, partnered):
    enrolled, grant = shared
    response = fetch(client, grant.id, token(client, partnered))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jose"
    result = verify_share(response.content.decode(), published(client))
    assert result.ok, [(c.name, c.message) for c in result.checks]
    assert [c.name for c in result.checks] == ["signature", "bundle", "inclusion", "tree_head"]
    bundle = result.payload["bundle"]
    types = sorted({e["resource"]["resourceType"] for e in bundle["entry"]})
    assert types == ["DiagnosticReport", "Observation", "Patient"]
    assert len([e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]) == 4
    fetch_row = ShareFetch.objects.get(grant=grant)
    entry = LedgerEntry.objects.get(seq=fetch_row.seq)
    leaf = json.loads(entry.leaf)
    assert leaf["action"] == "share.fetch" and leaf["client"] == str(enrolled.client_id)
    assert leaf["detail"]["bundle_sha256"] == fetch_row.bundle_sha256
    assert "欧阳明月" not in entry.leaf
    assert ShareGrant.objects.get(pk=grant.id).uses == 1


def test_careledger_share_verify_command(client, shared, partnered, tmp_path, capsys):
    _enrolled, grant = shared
    share_file = tmp_path / "share.jws"
    share_file.write_bytes(fetch(client, grant.id, token(client, partnered)).content)
    keys_file = tmp_path / "jwks.json"
    keys_file.write_bytes(client.get("/fhir/R4/.well-known/jwks.json").content)
    call_command("share", "verify", str(share_file), "--keys", str(keys_file))
    out = capsys.readouterr().out
    assert "share verified" in out and "[ok  ] inclusion" in out
    # Tampered: one character of the payload changed, signature kept.
    head, body, sig = share_file.read_text().split(".")
    raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw["bundle"]["entry"][0]["resource"]["birthDate"] = "1900-01-01"
    share_file.write_text(".".join([head, _b64(json.dumps(raw).encode()), sig]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("share", "verify", str(share_file), "--keys", str(keys_file))
    assert exit_info.value.code == 1
    assert "signature" in capsys.readouterr().err


def test_a_bundle_altered_and_re_signed_with_the_real_key_fails_the_ledger_check(
    client, shared, partnered
):
    _enrolled, grant = shared
    token_text = fetch(client, grant.id, token(client, partnered)).content.decode()
    payload = json.loads(
        jws.verify(token_text, next(iter(published(client)["share-bundle"].values())))
    )
    payload["bundle"]["entry"].pop()  # a result dropped after the ledger committed the Bundle
    signer = services.share_signer()
    forged = jws.sign(
        json.dumps(payload).encode(), private_key=signer.private_key(), kid=signer.key_id
    )
    result = verify_share(forged, published(client))
    assert not result.ok
    failed = next(c for c in result.checks if not c.ok)
    assert failed.name == "bundle" and "differs" in failed.message


def test_a_wrong_key_is_refused(client, shared, partnered):
    _enrolled, grant = shared
    token_text = fetch(client, grant.id, token(client, partnered)).content.decode()
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    other = jws.keys_from_jwks(jws.jwks(share_keys={}, ledger_keys={}))
    other["share-bundle"][jws.header_of(token_text)["kid"]] = stranger  # same kid, other key
    result = verify_share(token_text, other)
    assert not result.ok and result.checks[0].name == "signature"
    assert "does not verify" in result.checks[0].message
    # And the ledger key must be the published one too.
    keys = published(client)
    keys["ledger-sth"] = {}
    result = verify_share(token_text, keys)
    assert not result.ok and [c.name for c in result.checks if not c.ok] == ["tree_head"]


def test_a_tampered_inclusion_proof_fails(client, shared, partnered):
    _enrolled, grant = shared
    token_text = fetch(client, grant.id, token(client, partnered)).content.decode()
    payload = json.loads(
        jws.verify(token_text, next(iter(published(client)["share-bundle"].values())))
    )
    payload["ledger_receipt"]["leaf_index"] += 1
    signer = services.share_signer()
    forged = jws.sign(
        json.dumps(payload).encode(), private_key=signer.private_key(), kid=signer.key_id
    )
    result = verify_share(forged, published(client))
    assert [c.name for c in result.checks if not c.ok] == ["inclusion"]


def test_an_expired_grant_is_refused_and_ledgered(client, shared, partnered):
    _enrolled, grant = shared
    ShareGrant.objects.filter(pk=grant.id).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = fetch(client, grant.id, token(client, partnered))
    assert response.status_code == 403
    assert response.json()["issue"][0]["diagnostics"] == "grant_expired"
    assert refusals(partnered.partner, "grant_expired") == 1


def test_a_revoked_grant_is_refused_at_once(client, world, shared, partnered):
    enrolled, grant = shared
    access_token = token(client, partnered)
    assert fetch(client, grant.id, access_token).status_code == 200
    services.do_revoke_grant(actor=world.manager, client_id=enrolled.client_id, grant_id=grant.id)
    response = fetch(client, grant.id, access_token)
    assert response.status_code == 403 and refusals(partnered.partner, "grant_revoked") == 1
    search = client.get(
        f"/fhir/R4/Observation?patient=Patient/{enrolled.client_id}", **bearer(access_token)
    )
    assert search.status_code == 403


def test_a_used_up_grant_is_refused(client, world, partnered, share_text):
    enrolled = world.enrol()
    consent(world, enrolled.client_id, partnered.partner, share_text)
    grant = services.do_create_grant(
        actor=world.manager,
        client_id=enrolled.client_id,
        data=grant_input(partnered.partner, max_uses=2),
    )
    access_token = token(client, partnered)
    assert fetch(client, grant.id, access_token).status_code == 200
    assert (
        client.get(f"/fhir/R4/Patient/{enrolled.client_id}", **bearer(access_token)).status_code
        == 200
    )
    response = fetch(client, grant.id, access_token)
    assert response.status_code == 403 and refusals(partnered.partner, "grant_used_up") == 1
    assert ShareGrant.objects.get(pk=grant.id).uses == 2


def test_a_category_outside_the_grant_is_refused(client, shared, partnered):
    enrolled, _grant = shared
    access_token = token(client, partnered)
    for path in (
        f"/fhir/R4/Condition?patient=Patient/{enrolled.client_id}",
        f"/fhir/R4/RiskAssessment?patient=Patient/{enrolled.client_id}",
    ):
        response = client.get(path, **bearer(access_token))
        assert response.status_code == 403, path
    assert refusals(partnered.partner, "category_not_granted") == 2
    audit = client.get(
        f"/fhir/R4/AuditEvent?patient=Patient/{enrolled.client_id}", **bearer(access_token)
    )
    assert audit.status_code == 403


def test_a_scope_the_token_lacks_is_refused(client, shared, partnered):
    enrolled, _grant = shared
    narrow = token(client, partnered, scope="system/Patient.read")
    assert client.get(f"/fhir/R4/Patient/{enrolled.client_id}", **bearer(narrow)).status_code == 200
    response = client.get(
        f"/fhir/R4/Observation?patient=Patient/{enrolled.client_id}", **bearer(narrow)
    )
    assert response.status_code == 403 and refusals(partnered.partner, "scope_missing") == 1


def test_another_partner_and_another_institutions_token_are_refused(
    client, world, shared, partnered
):
    enrolled, grant = shared
    rival = register(world, code="P-002")
    response = fetch(client, grant.id, token(client, rival))
    assert response.status_code == 403 and refusals(rival.partner, "not_the_recipient") == 1
    rival_search = client.get(
        f"/fhir/R4/Patient/{enrolled.client_id}", **bearer(token(client, rival))
    )
    assert rival_search.status_code == 403 and refusals(rival.partner, "no_share_grant") == 1
    # A partner registered by the other institution, even with a grant-shaped request.
    from careledger.accounts.models import User

    other_admin = User.objects.create_user(
        username="admin2",
        password="x-Correct-horse-9",
        role="institution_admin",
        institution=world.other_inst,
    )
    foreign = register(world, code="P-003", actor=other_admin)
    response = client.get(
        f"/fhir/R4/Patient/{enrolled.client_id}", **bearer(token(client, foreign))
    )
    assert response.status_code == 403
    denied = LedgerEntry.objects.filter(actor_id=str(foreign.partner.id), outcome="denied")
    assert denied.count() == 1
    assert json.loads(denied.get().leaf)["detail"]["reason"] in {
        "no_share_grant",
        "other_institution",
    }


def test_withdrawing_consent_stops_the_share(client, world, shared, partnered):
    from careledger.consent.models import Consent
    from careledger.consent.services import do_withdraw

    enrolled, grant = shared
    access_token = token(client, partnered)
    consent_row = Consent.objects.get(client_id=enrolled.client_id, withdrawn_at__isnull=True)
    do_withdraw(actor=world.manager, consent_id=consent_row.id, method="paper", reference="撤回书")
    response = fetch(client, grant.id, access_token)
    assert response.status_code == 403 and refusals(partnered.partner, "consent_withdrawn") == 1


def test_no_token_or_a_bad_token_gets_401(client, shared):
    _enrolled, grant = shared
    assert client.get(f"/fhir/R4/$share/{grant.id}").status_code == 401
    response = client.get(f"/fhir/R4/$share/{grant.id}", **bearer("not-a-token"))
    assert response.status_code == 401 and "Bearer" in response["WWW-Authenticate"]


def test_a_wrong_secret_gets_no_token_and_is_ledgered(client, partnered):
    response = client.post(
        "/fhir/R4/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"{partnered.registered.client_id}:wrong".encode()).decode(),
    )
    assert response.status_code == 401
    assert LedgerEntry.objects.filter(action="partner.token", outcome="denied").count() == 1


def test_a_deactivated_partner_loses_its_tokens(client, world, shared, partnered):
    _enrolled, grant = shared
    access_token = token(client, partnered)
    services.do_deactivate_partner(actor=world.admin, partner_id=partnered.partner.id)
    assert fetch(client, grant.id, access_token).status_code == 401
    response = client.post(
        "/fhir/R4/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=partnered.basic(),
    )
    assert response.status_code == 401


def test_the_ledger_still_verifies_after_shares(client, shared, partnered, capsys):
    _enrolled, grant = shared
    access_token = token(client, partnered)
    fetch(client, grant.id, access_token)
    fetch(client, grant.id, access_token)
    call_command("ledger", "verify")
    assert "ledger verified" in capsys.readouterr().out


def test_the_data_window_limits_the_bundle(client, world, partnered, share_text):
    from tests.sharing.conftest import checkup

    enrolled = world.enrol()
    checkup(world, enrolled.client_id, when=dt.datetime(2019, 3, 1, tzinfo=dt.UTC), report_id="A")
    checkup(world, enrolled.client_id, when=dt.datetime(2024, 3, 1, tzinfo=dt.UTC), report_id="B")
    consent(world, enrolled.client_id, partnered.partner, share_text)
    grant = services.do_create_grant(
        actor=world.manager,
        client_id=enrolled.client_id,
        data=grant_input(partnered.partner, data_from=dt.date(2023, 1, 1)),
    )
    token_text = fetch(client, grant.id, token(client, partnered)).content.decode()
    result = verify_share(token_text, published(client))
    dates = {
        e["resource"]["effectiveDateTime"][:4]
        for e in result.payload["bundle"]["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert dates == {"2024"}
