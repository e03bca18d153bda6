"""Benchmark of the front desk's worklist with 100,000 requests (issue 15).

    .venv/bin/python scripts/bench_queue.py [--database sqlite|postgres] [--requests N]
    scripts/with-postgres.sh .venv/bin/python scripts/bench_queue.py --database postgres

(`make bench` runs both after scripts/bench.py.) Production settings (DEBUG off), a
throwaway database: a SQLite file in a work folder under bench/, or the PostgreSQL
database in DATABASE_URL (on 127.0.0.1 only; with-postgres.sh makes a throwaway one).

It fills the queue with fake requests spread over three years (most closed, a few
hundred open, about half with a logged call), signs a front-desk user in with Django's
test client, and times each worklist page in process: the server's time per request
(median and p90 of --repeat requests) and its SQL queries. Query counts are taken at
1,000 requests and again at the full size: the same count means no query per row or
per request. It also asks the database for its plan of the phone search, which must
use the phone index rather than scan the table.

Two-step sign-in is off for the signed-in client (STAFF_TWO_FACTOR_REQUIRED=false):
the code check is the same for every page and not what this measures.
"""

import argparse
import datetime
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import HOST, ROOT, log, percentile, production_env

TARGET_MS = 150.0
LAST_PAGE = "all requests, last page (no target)"
SMALL = 1_000
FIRST_NAMES = [
    "Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hugo", "Irene", "James",
    "Kim", "Luis", "Maria", "Nora", "Omar", "Paula", "Raj", "Sara", "Tom", "Vera",
]  # fmt: skip
SURNAMES = [
    "Alvarez", "Baker", "Chen", "Diaz", "Evans", "Flores", "Garcia", "Hughes", "Ito",
    "Jones", "Khan", "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi",
    "Smith", "Tran", "Underwood", "Vargas", "Williams", "Xu", "Young", "Zhang",
]  # fmt: skip


def pages(reference, full_name, phone_digits, last_page):
    """(label, query) for each measured page of the worklist."""
    national = f"({phone_digits[:3]}) {phone_digits[3:6]}-{phone_digits[6:]}"
    return [
        ("today's calls (the landing page)", {}),
        ("mine today", {"show": "today", "assigned": "mine"}),
        ("all open", {"show": "open"}),
        ("all requests, page 1", {"show": "all"}),
        (LAST_PAGE, {"show": "all", "p": str(last_page)}),
        ("overdue", {"show": "open", "overdue": "yes"}),
        ("search: reference", {"q": reference}),
        ("search: first and last name", {"q": full_name}),
        ("search: last name", {"q": full_name.split()[-1]}),
        ("search: phone (202) 555-0142", {"q": national}),
        (
            "search: phone 202.555.0142",
            {"q": ".".join([phone_digits[:3], phone_digits[3:6], phone_digits[6:]])},
        ),
        ("search: phone +12025550142", {"q": "+1" + phone_digits}),
        ("call sheet of today's calls", {"_view": "call_sheet"}),
    ]


def reference_for(number):
    """A well-formed reference (appointments/references.py), different for each number."""
    from appointments.references import ALPHABET, LENGTH

    digits = []
    for _ in range(LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def fill(count, start, staff):
    """Add requests number `start` to `count` - 1: fake, spread over three years."""
    from django.utils import timezone

    from appointments.models import ContactAttempt, Request

    rng = random.Random(start)
    now = timezone.now()
    span = datetime.timedelta(days=3 * 365).total_seconds()
    batch = []
    for number in range(start, count):
        age = datetime.timedelta(seconds=rng.random() * span)
        # The last ten days are still being worked; older requests are closed.
        recent = age < datetime.timedelta(days=10)
        status = rng.choice(["new", "contacted", "scheduled", "closed"]) if recent else "closed"
        batch.append(
            Request(
                reference=reference_for(number),
                kind=rng.choice(["consultation", "call_back"]),
                urgent=rng.random() < 0.05,
                submitted_at=now - age,
                status=status,
                closing_reason="booked" if status == "closed" else "",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                phone=f"+1202555{number % 10_000:04d}",
                email=f"bench{number}@example.com",
                preferred_time=rng.choice(["morning", "afternoon", "any"]),
                voicemail_ok=rng.random() < 0.8,
                patient_type=rng.choice(["new", "has_pump"]),
                reason="Bench request: not a real patient.",
                data_consent=True,
                # One of five front-desk staff (the bench user is the first).
                assigned_to=staff[number % 5] if status != "new" else None,
                next_follow_up=(now + datetime.timedelta(days=rng.randint(-2, 5))).date()
                if status == "contacted"
                else None,
                appointment_at=now + datetime.timedelta(days=rng.randint(1, 30))
                if status == "scheduled"
                else None,
                notification_status="sent",
            )
        )
        if len(batch) == 2_000 or number == count - 1:
            saved = Request.objects.bulk_create(batch)
            ContactAttempt.objects.bulk_create(
                ContactAttempt(
                    request=request,
                    called_at=request.submitted_at + datetime.timedelta(hours=2),
                    called_by=staff[0],
                    outcome="reached",
                )
                for request in saved
                if request.status != "new" and rng.random() < 0.6
            )
            batch = []


def measure(client, label, query, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = dict(query)
    view = query.pop("_view", "changelist")
    path = {
        "changelist": "/admin/appointments/request/",
        "call_sheet": "/admin/appointments/request/call-sheet/",
    }[view]
    url = path + ("?" + urlencode(query) if query else "")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)  # read now: the next request empties Django's log
    if response.status_code != 200:
        raise SystemExit(f"{label}: {url} answered {response.status_code}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    rows = response.context["cl"].result_count if view == "changelist" else None
    return {
        "queries": query_count,
        "median": statistics.median(times),
        "p90": percentile(times, 0.9),
        "rows": rows,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    (ROOT / "bench").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"queue-{stamp}-", dir=ROOT / "bench"))
    if options.database == "sqlite":
        url = f"sqlite:///{work / 'queue.sqlite3'}"
    else:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres") or urlsplit(url).hostname not in (HOST, "localhost"):
            raise SystemExit("--database postgres needs DATABASE_URL=postgres://127.0.0.1/...")
    os.environ.update(
        production_env(work, url, STAFF_TWO_FACTOR_REQUIRED="false", LOG_LEVEL="ERROR")
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts import roles
    from appointments.models import Request

    setup_test_environment()  # the test client's response.context
    settings.ALLOWED_HOSTS = [HOST, "testserver"]
    log(f"Migrating a throwaway {options.database} database ...")
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    User = get_user_model()
    front_desk = User.objects.create_user("bench-frontdesk", is_staff=True)
    staff = [front_desk] + [
        User.objects.create_user(f"bench-frontdesk-{number}", is_staff=True) for number in range(4)
    ]
    for user in staff:
        user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
    client = Client(headers={"x-forwarded-proto": "https"})
    client.force_login(front_desk)

    log(f"Filling {SMALL:,} requests ...")
    fill(SMALL, 0, staff)
    sample = Request.objects.get(reference=reference_for(SMALL // 2))
    full_name = sample.name
    digits = sample.phone.as_national.translate(str.maketrans("", "", "() -"))
    small = {
        label: measure(client, label, query, 2)
        for label, query in pages(sample.reference, full_name, digits, SMALL // 50)
    }
    log(f"Filling up to {options.requests:,} requests ...")
    started = time.monotonic()
    fill(options.requests, SMALL, staff)
    log(f"  ({time.monotonic() - started:.0f} s)")
    if options.database == "postgres":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    full = {}
    for label, query in pages(sample.reference, full_name, digits, options.requests // 50):
        log(f"  {label} ...")
        full[label] = measure(client, label, query, options.repeat)
    plan = Request.objects.filter(phone=sample.phone).explain()
    uses_index = "request_phone_idx" in plan

    lines = [
        f"make bench (queue): {stamp}, {options.database}, {Request.objects.count():,} requests, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, DEBUG {settings.DEBUG}",
        "",
        f"{'page':<38}{'rows':>8}{'median ms':>11}{'p90 ms':>9}"
        f"{'rows at 1k':>12}{'SQL at 1k':>11}{'SQL at full':>13}",
    ]
    for label, figures in full.items():
        rows = "-" if figures["rows"] is None else f"{figures['rows']:,}"
        small_rows = "-" if small[label]["rows"] is None else f"{small[label]['rows']:,}"
        lines.append(
            f"{label:<38}{rows:>8}{figures['median']:>11.1f}{figures['p90']:>9.1f}"
            f"{small_rows:>12}{small[label]['queries']:>11}{figures['queries']:>13}"
        )
    # Paging to the very end of every request ever made is no front-desk task: shown,
    # not judged.
    judged = {label: figures for label, figures in full.items() if label != LAST_PAGE}
    slowest = max(figures["median"] for figures in judged.values())
    # An empty list skips the query for its rows' calls: compare lists with rows.
    compared = [label for label in full if small[label]["rows"] != 0 and full[label]["rows"] != 0]
    fixed = all(small[label]["queries"] == full[label]["queries"] for label in compared)
    lines += [
        "",
        f"Phone search plan: {' '.join(plan.split())}",
        "",
        "Targets",
        f"  worklist pages and searches <= {TARGET_MS:g} ms median: max {slowest:.1f} ms, "
        + ("met" if slowest <= TARGET_MS else "NOT MET"),
        "  same SQL query count at 1,000 and at full size (lists with rows at both): "
        + ("met" if fixed else "NOT MET"),
        "  the phone search uses the phone index (no table scan): "
        + ("met" if uses_index else "NOT MET"),
    ]
    report = "\n".join(lines)
    print(report)
    output = options.output or ROOT / "bench" / f"bench-queue-{options.database}-{stamp}.txt"
    output.write_text(report + "\n")
    log(f"Written to {output.relative_to(ROOT)}")
    shutil.rmtree(work, ignore_errors=True)
    # Like bench.py: the verdicts are in the report; `make bench` goes on to the next part.
    return 0


if __name__ == "__main__":
    sys.exit(main())
