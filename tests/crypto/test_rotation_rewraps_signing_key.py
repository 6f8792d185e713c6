"""`keys rotate` re-wraps the ledger's signing key with the data keys, so the old master key can
be retired at once without losing the key that signs tree heads."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from careledger.crypto import keyring, signing
from careledger.crypto.models import SigningKey
from careledger.ledger import heads

pytestmark = pytest.mark.django_db


def test_rotation_moves_the_signing_key_to_the_new_master_key(world, settings):
    from conftest import totp_code, totp_device

    settings.CARELEDGER_MASTER_KEY = ""  # the key file, so rotation makes a new master key
    keyring.clear_cache()
    signing.current_signer()
    old_kek = keyring.kms().current_id
    assert set(SigningKey.objects.values_list("kek_id", flat=True)) == {old_kek}

    device = totp_device(world.auditor)
    call_command("keys", "rotate", "--totp-user", "auditor", "--code", totp_code(device))

    keyring.clear_cache()
    new_kek = keyring.kms().current_id
    assert new_kek != old_kek
    assert set(SigningKey.objects.values_list("kek_id", flat=True)) == {new_kek}
    assert all(signing.check_custody(row) is None for row in SigningKey.objects.all())
    assert heads.do_sign_head().size > 0  # it still opens and signs
