"""`careledger tokens create USERNAME [--days N] [--name NAME]`: an API bearer token, shown once."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from careledger.accounts.models import ApiToken, User
from careledger.ledger import services as ledger


class Command(BaseCommand):
    help = "Create or revoke API tokens."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("--days", type=int, default=30)
        create.add_argument("--name", default="cli")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("username")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {options['username']!r}") from exc
        if options["action"] == "revoke":
            n = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            ledger.record(
                actor=ledger.SYSTEM,
                action="api_token.revoke",
                detail={"user": str(user.id), "count": n},
            )
            self.stdout.write(f"revoked {n} tokens")
            return
        token = ApiToken.generate()
        ApiToken.objects.create(
            user=user,
            name=options["name"],
            digest=ApiToken.hash(token),
            expires_at=timezone.now() + dt.timedelta(days=options["days"]),
        )
        ledger.record(actor=ledger.SYSTEM, action="api_token.create", detail={"user": str(user.id)})
        self.stdout.write(token)
