"""The ledger API (/api/ledger): the public key is public; heads and proofs are for auditors,
and entries only of their own institution. Every other caller is refused, and the refusal is
ledgered; every answer is ledgered too. What it returns verifies offline."""

from __future__ import annotations

import json

import pytest

from careledger.access.enforce import AccessDenied
from careledger.clients.selectors import get_client
from careledger.ledger import heads, merkle, sth
from careledger.ledger.models import LedgerEntry, LedgerHead
from careledger.ledger.receipts import verify_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol()
    get_client(world.doctor, enrolled.client_id)
    with pytest.raises(AccessDenied):
        get_client(world.outsider, enrolled.client_id)
    own = LedgerEntry.objects.get(action="client.view", outcome="allowed").seq
    foreign = LedgerEntry.objects.get(actor_id=str(world.outsider.id)).seq
    return own, foreign


def denials(user) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()


def test_the_public_key_is_public_and_is_the_key_heads_are_signed_with(client, activity):
    response = client.get("/api/ledger/public-key")
    assert response.status_code == 200
    data = response.json()
    public = sth.unb64(data["public_key"], "key")
    assert data["key_id"] == sth.key_id(public)
    assert data["algorithm"] == "Ed25519" and data["log_id"].startswith("careledger:")
    head = heads.do_sign_head()
    assert head.key_id == data["key_id"]
    assert set(data) == {"algorithm", "log_id", "key_id", "public_key", "keys", "tree_head_format"}


def test_an_auditor_gets_the_latest_signed_head(world, login, activity):
    response = login(world.auditor).get("/api/ledger/tree-head")
    assert response.status_code == 200
    signed = sth.head_from_json(response.json())
    assert signed.verify()[0]
    assert LedgerEntry.objects.filter(
        action="ledger.head.view", actor_id=str(world.auditor.id)
    ).exists()


def test_an_auditor_gets_a_receipt_for_an_entry_of_their_institution(world, login, activity):
    own, _ = activity
    http = login(world.auditor)
    response = http.get(f"/api/ledger/entries/{own}/inclusion")
    assert response.status_code == 200
    receipt = response.json()
    public = sth.unb64(http.get("/api/ledger/public-key").json()["public_key"], "key")
    ok, reason = verify_receipt(receipt, public)
    assert ok, reason
    assert json.loads(receipt["leaf"])["action"] == "client.view"
    seen = LedgerEntry.objects.filter(action="ledger.proof.inclusion").last()
    assert json.loads(seen.leaf)["detail"] == {"seq": own, "size": receipt["tree_size"]}


def test_an_auditor_gets_a_receipt_against_a_chosen_head(world, login, activity):
    own, _ = activity
    early = heads.do_sign_head()
    world.enrol()
    heads.do_sign_head()
    http = login(world.auditor)
    response = http.get(f"/api/ledger/entries/{own}/inclusion", {"size": early.size})
    assert response.status_code == 200 and response.json()["tree_size"] == early.size
    assert http.get(f"/api/ledger/entries/{own}/inclusion", {"size": 1}).status_code == 400
    assert http.get("/api/ledger/entries/999999/inclusion").status_code == 404


def test_an_auditor_is_refused_another_institutions_entry_and_it_is_ledgered(
    world, login, activity
):
    _, foreign = activity
    before = denials(world.auditor)
    response = login(world.auditor).get(f"/api/ledger/entries/{foreign}/inclusion")
    assert response.status_code == 403
    assert denials(world.auditor) == before + 1
    denied = LedgerEntry.objects.filter(actor_id=str(world.auditor.id), outcome="denied").last()
    assert json.loads(denied.leaf)["detail"] == {"reason": "other_institution", "seq": foreign}


def test_a_consistency_proof_verifies_between_two_signed_heads(world, login, activity):
    first = heads.do_sign_head()
    world.enrol()
    second = heads.do_sign_head()
    response = login(world.auditor).get(
        "/api/ledger/consistency", {"first": first.size, "second": second.size}
    )
    assert response.status_code == 200
    data = response.json()
    proof = [bytes.fromhex(h) for h in data["proof"]]
    assert merkle.verify_consistency(
        first.size, second.size, bytes.fromhex(first.root), bytes.fromhex(second.root), proof
    )
    assert data["first_head"]["root"] == first.root
    assert data["second_head"]["signature"] == second.signature


def test_a_consistency_proof_refuses_sizes_outside_the_log(world, login, activity):
    size = LedgerHead.objects.get().size
    http = login(world.auditor)
    assert http.get("/api/ledger/consistency", {"first": 3, "second": 2}).status_code == 400
    response = http.get("/api/ledger/consistency", {"first": 1, "second": size + 100})
    assert response.status_code == 400


ROUTES = ["/api/ledger/tree-head", "/api/ledger/consistency?first=1&second=2"]


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "admin", "analyst", "outsider"])
def test_everyone_but_auditors_is_refused_and_it_is_ledgered(world, login, activity, who):
    own, _ = activity
    user = getattr(world, who)
    http = login(user)
    for url in [*ROUTES, f"/api/ledger/entries/{own}/inclusion"]:
        before = denials(user)
        response = http.get(url)
        assert response.status_code == 403, (who, url)
        assert denials(user) == before + 1, (who, url)
        assert "leaf" not in response.content.decode()


def test_an_auditor_of_another_institution_is_refused(world, login, activity):
    from careledger.accounts.models import User

    own, _ = activity
    other = User.objects.create_user(
        username="auditor_b",
        password="x-Long-enough-1",
        role="auditor",
        institution=world.other_inst,
    )
    response = login(other).get(f"/api/ledger/entries/{own}/inclusion")
    assert response.status_code == 403
    assert denials(other) == 1


def test_anonymous_callers_are_refused_everything_but_the_key(client, activity):
    own, _ = activity
    for url in [*ROUTES, f"/api/ledger/entries/{own}/inclusion"]:
        assert client.get(url).status_code == 401, url
