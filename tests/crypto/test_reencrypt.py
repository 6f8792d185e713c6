"""Re-encryption after DEK rotation: every token moves to the newest key, plaintext unchanged,
idempotent; the Celery task chain does the same work batch by batch."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from careledger.clients.models import Client, MembershipCard
from careledger.crypto import aead, keyring
from careledger.crypto.models import DataKey, KeyScope
from careledger.crypto.reencrypt import reencrypt_all

pytestmark = pytest.mark.django_db


def token_key_versions() -> set[int]:
    ids = set()
    for client in Client.objects.all():
        ids.add(aead.key_id_of(client.__dict__["name"].token))
    return set(DataKey.objects.filter(pk__in=ids).values_list("version", flat=True))


def rotate_client_keys() -> None:
    for owner in DataKey.objects.filter(scope=KeyScope.CLIENT).values_list("owner_id", flat=True):
        keyring.add_version(KeyScope.CLIENT, owner)
    keyring.clear_cache()


def test_reencrypt_moves_every_token_to_the_new_version_and_keeps_values(world):
    names = {world.enrol(name=n).client_id: n for n in ("王一", "李二", "赵三")}
    rotate_client_keys()
    assert token_key_versions() == {1}
    updated_before = dict(Client.objects.values_list("id", "updated_at"))
    assert reencrypt_all(size=2) == 3 + 3 + 3  # clients, cards, first revisions
    keyring.clear_cache()
    assert token_key_versions() == {2}
    for client in Client.objects.all():
        assert client.name == names[client.id]
    assert dict(Client.objects.values_list("id", "updated_at")) == updated_before
    assert all(card.number for card in MembershipCard.objects.all())
    assert reencrypt_all() == 0  # idempotent: nothing left to do


def test_the_background_task_chain_reencrypts_everything(world, settings, capsys):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from careledger.celery import app

    app.conf.task_always_eager = True
    try:
        for _ in range(3):
            world.enrol()
        rotate_client_keys()
        call_command("keys", "reencrypt", "--background")
        keyring.clear_cache()
        assert token_key_versions() == {2}
    finally:
        app.conf.task_always_eager = False
