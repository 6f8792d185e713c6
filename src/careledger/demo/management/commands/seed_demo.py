"""`careledger seed-demo [--clients N]`: demo institution, users of every role and clients."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careledger.demo.advice import seed_advice
from careledger.demo.assessment import seed_risks
from careledger.demo.checkups import seed_checkups, seed_lab_feed
from careledger.demo.followup import seed_followup
from careledger.demo.seed import (
    DEMO_PASSWORD,
    USERS,
    demo_second_factors,
    seed,
    seed_portal_demo,
)
from careledger.demo.tagging import seed_tags
from careledger.request_context import RequestContext, bound, new_request_id


class Command(BaseCommand):
    help = "Seed the demo institution (demo mode only: CARELEDGER_DEMO=1)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--clients", type=int, default=300)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if not settings.DEMO_MODE:
            raise CommandError("refusing to seed demo data: set CARELEDGER_DEMO=1 (demo mode)")
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            summary = seed(options["clients"])
            checkups = seed_checkups()
            waiting = seed_lab_feed()
            portal_phone = seed_portal_demo()
            risks = seed_risks()  # after the check-ups they read
            tags = seed_tags()  # after the results and risks the rules read
            advice = seed_advice()  # after the facts it rests on (tags, risks, questionnaires)
            followup = seed_followup()  # after the tags its plans are triggered by
        self.stdout.write(
            f"demo data: {summary['clients']} clients ({summary['clients_added']} added now); "
            f"check-up results: {checkups['observations']} imported now "
            f"in {checkups['jobs']} import job(s); {waiting} laboratory result(s) waiting in the "
            "quarantine for their codes to be mapped; risk assessments: "
            f"{risks['written']} written for {risks['clients']} clients; tag rules: "
            f"{tags['rules_published']} published now, {tags['tag_changes']} tag change(s); "
            "advice catalogue: "
            f"{advice['items_added']} item(s) added, {advice['sheets_issued']} sheet(s) issued; "
            f"follow-up: {followup['plans_published']} plan(s) published, "
            f"{followup['consents']} phone consent(s) recorded, {followup['enrolled']} enrolled, "
            f"{followup['tasks']} task(s) generated, {followup['performed']} call(s) recorded"
        )
        self.stdout.write("demo logins (demo mode only), all with password " + DEMO_PASSWORD + ":")
        for user in USERS:
            teams = ", ".join(user.teams) or "—"
            self.stdout.write(
                f"  {user.username:<10} {user.role:<18} {user.display_name}  teams: {teams}"
            )
        self.stdout.write(
            "two-step verification (demo mode only): add the key to an authenticator app "
            "(time-based, 6 digits) or use one of the backup codes, each once:"
        )
        for username, (key, codes) in demo_second_factors().items():
            self.stdout.write(f"  {username:<10} key {key}")
            self.stdout.write(f"  {'':<10} backup codes {' '.join(codes) or '(all used)'}")
        if portal_phone:
            self.stdout.write(
                f"client portal (demo mode only): /portal/login/ with mobile {portal_phone}; "
                "the sign-in code appears in the server output (CARELEDGER_NOTIFY_BACKEND=console)"
            )
