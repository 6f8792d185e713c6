"""`careledger keys status|rotate`.

rotate: with the key file, adds a new master key (KEK) and re-wraps every data key under it; with
CARELEDGER_MASTER_KEY, re-wraps under the first key listed there (put the new key first).
`--data-keys` also adds a new version of every institution and client data key, so new writes
use fresh keys while old tokens keep opening with theirs. Blind-index keys are never rotated
here: their values are stored in indexes that would all have to be recomputed.
Re-wrapping is resumable: run it again after an interruption and it continues.
`reencrypt` then moves every sealed value onto the newest DEK versions (also resumable).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from careledger.crypto import keyring, signing
from careledger.crypto.kms import KeyError_
from careledger.crypto.models import DataKey, KeyScope
from careledger.ledger import services as ledger
from careledger.request_context import RequestContext, bound, new_request_id


class Command(BaseCommand):
    help = "Show key status or rotate master and data keys."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "status", help="master keys configured and data keys by scope and master key"
        )
        rotate = sub.add_parser("rotate", help="new master key and re-wrap all data keys")
        rotate.add_argument(
            "--data-keys", action="store_true", help="also add a new version of each data key"
        )
        rotate.add_argument(
            "--no-new-master",
            action="store_true",
            help="only re-wrap under the current master key (finish an interrupted rotation)",
        )
        # Rotation needs a person: an institution admin or auditor with a fresh TOTP code.
        rotate.add_argument("--totp-user", required=True, help="admin or auditor confirming")
        rotate.add_argument("--code", default="", help="their current TOTP code (else prompted)")
        reencrypt = sub.add_parser(
            "reencrypt", help="re-seal every value onto its owner's newest data key (resumable)"
        )
        reencrypt.add_argument(
            "--background", action="store_true", help="enqueue it for the Celery worker instead"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            if options["action"] == "status":
                self.status()
            elif options["action"] == "reencrypt":
                self.reencrypt(options["background"])
            else:
                self.step_up(options["totp_user"], options["code"])
                self.rotate(options["data_keys"], options["no_new_master"])

    def status(self) -> None:
        kms = keyring.kms()
        self.stdout.write(f"current master key: {kms.current_id}")
        self.stdout.write(f"configured master keys: {', '.join(kms.known_ids())}")
        rows = (
            DataKey.objects.filter(destroyed_at__isnull=True)
            .values("scope", "kek_id")
            .annotate(n=Count("id"))
            .order_by("scope", "kek_id")
        )
        for row in rows:
            flag = "" if row["kek_id"] == kms.current_id else "  (needs re-wrap)"
            self.stdout.write(f"{row['scope']:<12} under {row['kek_id']}: {row['n']}{flag}")

    def reencrypt(self, background: bool) -> None:
        if background:
            from careledger.crypto.tasks import reencrypt

            reencrypt.delay()
            self.stdout.write("re-encryption enqueued for the background worker")
            return
        from careledger.crypto.reencrypt import reencrypt_all

        count = reencrypt_all()
        ledger.record(actor=ledger.SYSTEM, action="keys.reencrypt", detail={"resealed": count})
        self.stdout.write(f"re-sealed {count} rows onto their newest data keys")

    def step_up(self, username: str, code: str) -> None:
        from getpass import getpass

        from careledger.accounts.stepup import StepUpFailed, check_cli_step_up

        code = code or getpass(f"TOTP code of {username}: ")
        try:
            check_cli_step_up(username=username, code=code, purpose="keys.rotate")
        except StepUpFailed as exc:
            raise CommandError(str(exc)) from exc

    def rotate(self, data_keys: bool, no_new_master: bool) -> None:
        kms = keyring.kms()
        old = kms.current_id
        if not no_new_master and kms.key_file is not None:
            try:
                new = kms.add_new_key()
            except KeyError_ as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"new master key {new} (previous {old} kept for unwrapping)")
        elif kms.key_file is None:
            self.stdout.write(f"master keys come from CARELEDGER_MASTER_KEY; current is {old}")
        count = keyring.rewrap_all()
        self.stdout.write(f"re-wrapped {count} data keys under {kms.current_id}")
        # The ledger's signing key is wrapped by the same master key: re-wrap it now, so the old
        # master key can be retired at once without losing the key that signs tree heads.
        signing_keys = signing.rewrap_signing_keys()
        self.stdout.write(f"re-wrapped {signing_keys} ledger signing keys")
        versions = 0
        if data_keys:
            owners = (
                DataKey.objects.filter(destroyed_at__isnull=True)
                .exclude(scope=KeyScope.BLIND_INDEX)
                .values_list("scope", "owner_id")
                .distinct()
            )
            for scope, owner_id in list(owners):
                keyring.add_version(scope, owner_id)
                versions += 1
            self.stdout.write(f"added a new version of {versions} data keys")
        ledger.record(
            actor=ledger.SYSTEM,
            action="keys.rotate",
            detail={
                "master_key": kms.current_id,
                "rewrapped": count,
                "signing_keys": signing_keys,
                "new_versions": versions,
            },
        )
        keyring.clear_cache()
