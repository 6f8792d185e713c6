"""The follow-up benchmark (issue 6): time to generate the day's follow-up tasks for 100,000
clients with active plans (goal < 60 s), and — a second section, `reports` — the seconds to
render one client's report PDF (goal < 2 s).

Sections (`--section tasks|reports|all`); each runs on a throwaway SQLite database and on
PostgreSQL when one answers on 127.0.0.1:5432 (or BENCH_POSTGRES_URL), in a child process:

* `tasks` — seeding (not measured): --clients clients enrolled through the enrolment service
  (`do_enrol_clients`: validation, blind indexes, data keys, sealed fields, ledger); a phone
  follow-up consent for --consent-share of them and the hypertension tag for --tag-share,
  written by a benchmark-only bulk path (plain rows: landing 100,000 consents through the desk
  service would dominate the run and is not what is measured); two published plans made
  through the plan services — 新客户 (enrolment trigger, welcome call on day 0) and 高血压随访
  (tag trigger, day 0 then monthly × 6), both by phone. Measured:
  `followup.generation.generate_institution` — what the hourly beat task runs — (1) the first
  run, which enrols everyone and writes every task due within the horizon, sealed in the ledger;
  (2) the same run again at once (idempotent: nothing to write); (3) the run a day later.
* `reports` — engineer H's half (report rendering); added to `SECTIONS` below.

    .venv/bin/python benchmarks/followup.py [--section tasks] [--clients 100000]
                                            [--database sqlite|postgres|both]

BENCH_PROFILE=tasks prints a cProfile of the first generation run (the figures are then slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _common import throwaway_env  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# ------------------------------------------------------------------ section: tasks


def _enrol(manager, team, clients: int) -> None:  # type: ignore[no-untyped-def]
    from stdnum.cn import ric

    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput

    def person(i: int) -> ClientInput:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
        sex = "M" if i % 2 else "F"
        seq = i // 18000 % 250 * 2 + (1 if sex == "M" else 0)
        body = f"330102{birth:%Y%m%d}{seq:03d}"
        return ClientInput(
            name="李" + "伟芳娜敏静丽强磊军洋"[i % 10] + "勇艳杰娟涛明超秀霞平"[i // 10 % 10],
            sex=sex,
            birth_date=birth,
            document_type="resident_id",
            document_number=body + ric.calc_check_digit(body + "0"),
            phone=f"138{i:08d}",
            membership_level="standard",
            care_team_ids=[team.id],
        )

    for start in range(0, clients, 5000):
        result = do_enrol_clients(
            actor=manager, inputs=[person(i) for i in range(start, min(clients, start + 5000))]
        )
        assert not result.rejected, result.rejected[:3]


def _bulk_consents_and_tags(inst, admin, consent_share: float, tag_share: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Benchmark-only bulk path (plain rows), see the module docstring."""
    from django.utils import timezone

    from careledger.clients.models import Client
    from careledger.consent import text_services
    from careledger.consent.models import Consent
    from careledger.tagging import services as tag_services
    from careledger.tagging.models import ClientTag

    draft = text_services.do_create_draft(
        actor=admin, purpose="followup_phone", title="电话随访", body="本人同意电话随访。"
    )
    text = text_services.do_publish(actor=admin, text_id=draft.id)
    tag = tag_services.do_create_tag(
        actor=admin, data=tag_services.TagInput(code="htn", name_zh="高血压")
    )
    ids = list(Client.objects.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    consents = [
        Consent(
            id=uuid.uuid4(),
            institution_id=inst.id,
            client_id=cid,
            purpose="followup_phone",
            text=text,
            text_version=text.version,
            text_sha256=text.body_sha256,
            method="paper",
            given_at=now,
        )
        for n, cid in enumerate(ids)
        if n % 100 < consent_share * 100
    ]
    Consent.objects.bulk_create(consents, batch_size=2000)
    tags = [
        ClientTag(
            id=uuid.uuid4(),
            institution_id=inst.id,
            client_id=cid,
            tag=tag,
            source="manual",
            active=True,
            applied_at=now,
        )
        for n, cid in enumerate(ids)
        if n % 100 < tag_share * 100
    ]
    ClientTag.objects.bulk_create(tags, batch_size=2000)
    return len(consents), len(tags)


def _plans(admin) -> None:  # type: ignore[no-untyped-def]
    from careledger.followup import plan_services

    common = {
        "channel": "phone",
        "assignee_role": "nurse",
        "call_start": "09:00",
        "call_end": "20:00",
        "script": "您好，这里是健康管理中心。",
    }
    plans = [
        ("new", "新客户", {"trigger_kind": "enrolment", "trigger_params": {"within_days": 30}}),
        (
            "htn",
            "高血压随访",
            {
                "trigger_kind": "tag",
                "trigger_params": {"tag": "htn"},
                "repeat_frequency": "monthly",
                "repeat_interval": 1,
                "repeat_count": 6,
            },
        ),
    ]
    for code, name, data in plans:
        v = plan_services.do_create_plan(
            actor=admin, code=code, name_zh=name, data={**common, "first_days": 0, **data}
        )
        plan_services.do_publish(actor=admin, version_id=v.id)


def run_tasks(label: str, args: argparse.Namespace) -> None:
    from django.utils import timezone

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.followup import generation
    from careledger.followup.models import FollowupTask
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.request_context import RequestContext, bound

    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)
    with bound(RequestContext(request_id="bench", channel="cli")):
        started = time.perf_counter()
        _enrol(manager, team, args.clients)
        print(
            f"{label} seeded: {Client.objects.count()} clients through the enrolment service in "
            f"{time.perf_counter() - started:.0f} s"
        )
        consents, tags = _bulk_consents_and_tags(inst, admin, args.consent_share, args.tag_share)
        _plans(admin)
        print(f"{label} seeded: {consents} phone consents, {tags} tags (bulk), 2 published plans")
        print(f"{label} measuring ({load()})")
        now = timezone.now()
        for title, when in (
            ("first run (enrol everyone, write the day's tasks)", now),
            ("same run again (idempotent)", now),
            ("the next day", now + dt.timedelta(days=1)),
        ):
            profiler = None
            if os.environ.get("BENCH_PROFILE") == "tasks" and when is now:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            t0 = time.perf_counter()
            s = generation.generate_institution(institution_id=inst.id, now=when)
            wall = time.perf_counter() - t0
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
                profiler = None
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in s.seconds.items())
            print(
                f"{label} {title}: {wall:.1f} s wall — {s.enrolled} enrolled, {s.tasks} tasks, "
                f"{s.skipped_no_consent} passed over (no consent), {s.escalated} escalated "
                f"({parts})"
            )
    print(f"{label} tasks in the database: {FollowupTask.objects.count()}")


# --------------------------------------------------------------- the harness

from followup_reports import run_reports  # noqa: E402  (the `reports` section, engineer H)

SECTIONS: dict[str, Callable[[str, argparse.Namespace], None]] = {
    "tasks": run_tasks,
    "reports": run_reports,
}


def child(db: str, args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    SECTIONS[args.section](f"[{db} · {args.section}]", args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--section", choices=[*SECTIONS, "all"], default="all")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--consent-share", type=float, default=0.9)
    parser.add_argument("--tag-share", type=float, default=0.3)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--reports", type=int, default=10, help="prints timed (reports)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {load()}"
    )
    sections = list(SECTIONS) if args.section == "all" else [args.section]
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for section in sections:
        for leg in legs:
            with throwaway_env(leg, f"careledger_bench_followup_{os.getpid()}") as env:
                if env is None:
                    continue
                env["CARELEDGER_LOG_LEVEL"] = "WARNING"
                passed = [
                    f"--section={section}",
                    f"--clients={args.clients}",
                    f"--consent-share={args.consent_share}",
                    f"--tag-share={args.tag_share}",
                    f"--reports={args.reports}",
                ]
                subprocess.run(
                    [sys.executable, __file__, "--child", leg, *passed],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )


if __name__ == "__main__":
    main()
