"""`careledger unlock USERNAME [--ip ADDRESS]`: clear sign-in failures (lift a lockout).

For the operator when no institution admin can (e.g. the admin is the one locked out).
Audited as `auth.unlock` by the system actor, with the user's id, never the name.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from careledger.accounts import admin_services, lockout
from careledger.accounts.models import User
from careledger.ledger import services as ledger
from careledger.request_context import RequestContext, bound, new_request_id


class Command(BaseCommand):
    help = "Lift a sign-in lockout for a username (and optionally an IP address)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--ip", default="", help="also clear failures from this IP address")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        username, ip = options["username"], options["ip"]
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
            cleared = admin_services.do_unlock(actor=None, target=user)
            if ip:
                cleared += lockout.unlock(ip_address=ip)
                ledger.record(actor=ledger.SYSTEM, action="auth.unlock", detail={"ip": ip})
        self.stdout.write(f"unlocked {username}: {cleared} failure records cleared")
