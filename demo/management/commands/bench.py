"""`make bench`: the main pages under load, served by gunicorn in production settings, at two data sizes.

Speed is measured here, never asserted in a test (tests assert query counts instead). One run:

1. Two data sets in embedded databases of their own, each seeded once with `seed_demo --clients N`
   and stamped under var/bench/ (later runs reuse them): `kast_bench` (N = 20 000, a national
   data set) and `kast_bench_tenth` (N / 10), to show how cost grows with data.
2. For each, in a child process: sessions for the staff, and each page's SQL query count and time
   for one request in-process (CaptureQueriesContext, after a warm-up request).
3. Two gunicorns serving `kast.wsgi` in production settings on free loopback ports, one per data
   set, and wrk against each page: a warm-up, then three runs per size, the sizes in turn (so a
   noisy moment on a shared machine hits both alike); the median of the runs is reported.
4. A table of p50 and p95 per page, p95 as a ratio to two floors and to the same page at a tenth
   of the data, errors and queries; the same as JSON under var/bench/ (a timestamped file and
   latest.json). The floors: `/healthz` (one trivial query: the server's own cost), and a signed-in
   page with the layout and no data (the password-changed page: session, second factor, middleware
   and the base template, the framework's cost of any page), so what each page itself costs shows.

The staff are signed in by sessions made server-side (as a login would make them), so the load
generator only sends a Cookie header; no password is involved.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from kast import embedded_db
from kast.middleware import mark_seen
from kast.models import Role, User

BENCH_DIR = Path(settings.BASE_DIR) / "var" / "bench"
#: The seeders: a stamp remembers their digest, so a run can say when the data predate a change.
SEEDERS = (
    "demo/management/commands/seed_demo.py",
    "demo/cases.py",
    "demo/clients.py",
    "demo/sessions.py",
    "demo/assessments.py",
    "demo/relatives.py",
    "demo/clinic_work.py",
    "demo/groups.py",
)
#: A timed run lasts at least `--duration`, and longer for a slow page so it has about this many requests.
MIN_REQUESTS = 20
MAX_RUN_SECONDS = 8
#: The warm-up lasts long enough for every worker to serve the page twice, within this bound.
MAX_WARM_UP_SECONDS = 6
#: The backend that checks staff passwords (the others in AUTHENTICATION_BACKENDS only watch, e.g. for lockout).
STAFF_BACKEND = "kast.auth.StaffBackend"
#: Aims from the issue: p95 within these multiples of the floor's p95, and of the same page at a tenth of the data.
AIM_FLOOR = 5.0
AIM_FLOOR_PDF = 20.0
#: The second floor: a signed-in page with the whole layout and no data (what every page costs at least).
LAYOUT_FLOOR = "password_change_done"
#: The pages that make a PDF (the aim against the floor is AIM_FLOOR_PDF), with the issue's aim for their p50 (ms)
#: alone: one request at a time to gunicorn, warm (under load two cores share four requests, so a p50 there is
#: about twice as long and is reported beside it).
PDF_PAGES = ("pdf", "year_pdf")
AIM_P50_MS = {"pdf": 300.0, "year_pdf": 1000.0}
AIM_GROWTH = 1.3

#: wrk's own report has no 95th percentile: its done() hook writes the figures as one JSON line.
WRK_SCRIPT = """\
-- Written by `manage.py bench`: wrk's figures as one JSON line (latencies in microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p95_us": %.0f, "p99_us": %.0f, ' ..
    '"max_us": %.0f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


#: The preparing step, in a child process on one data set in production settings. Not `manage.py bench`: production
#: settings do not install this development-only app, so its commands are unknown there (its modules still import).
PREPARE = """\
import sys
from pathlib import Path

import django

django.setup()
from django.core.management.base import CommandError

from demo.management.commands.bench import _prepare

try:
    _prepare(Path(sys.argv[1]))
except CommandError as exc:
    sys.exit(f"bench: {exc}")
"""


@dataclass(frozen=True)
class DataSet:
    key: str
    database: str
    clients: int


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    user: User | None
    path: str
    #: A PDF is made only by a deliberate POST (kast.pdf.print_response), with the CSRF token a form would send.
    post: bool = False


class Server:
    """gunicorn serving kast.wsgi in production settings on a free loopback port, for one data set."""

    def __init__(self, database: str, secret: str, workers: int):
        self.env = _production_env(database, secret)
        self.workers = workers
        self.port = _free_port()
        self.log = BENCH_DIR / f"gunicorn-{database}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (gunicorn of this virtualenv)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "kast.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                f"--error-logfile={self.log}",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn stopped at start (see {self.log}).")
            try:
                if _status(self.port, {"method": "GET", "path": reverse("healthz"), "headers": {}}) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise CommandError(f"gunicorn did not answer /healthz within a minute (see {self.log}).")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Command(BaseCommand):
    help = "Measure the main pages under gunicorn and wrk at two data sizes (see `make bench` and docs/performance.md)."

    def add_arguments(self, parser):
        cores = os.cpu_count() or 1
        parser.add_argument("--clients", type=int, default=20000, help="Clients in the full data set (a tenth too).")
        parser.add_argument("--duration", type=int, default=3, help="Seconds per timed run (longer for slow pages).")
        parser.add_argument(
            "--warm-up", type=int, default=2, help="Seconds of warm-up per page (longer for slow pages)."
        )
        parser.add_argument("--runs", type=int, default=3, help="Timed runs per page and size; the median is reported.")
        parser.add_argument(
            "--pages",
            default="",
            help="Only these pages, by key, comma-separated (e.g. pdf,year_pdf: the two PDFs), besides the two floors "
            "every page is measured against; all pages when empty.",
        )
        parser.add_argument(
            "--connections", type=int, default=2 * cores, help="Concurrent connections (twice the cores)."
        )
        parser.add_argument(
            "--workers", type=int, default=2 * cores + 1, help="gunicorn sync workers (twice the cores, plus one)."
        )

    def handle(self, *args, **options):
        if options["clients"] < 10 or options["runs"] < 1 or options["duration"] < 1 or options["connections"] < 1:
            raise CommandError("--clients must be at least 10; --runs, --duration and --connections at least 1.")
        self._run(options)

    # -- the whole run (make bench) ------------------------------------------------------------

    def _run(self, options) -> None:
        if "DATABASE_URL" in os.environ:
            raise CommandError("make bench seeds databases of its own in the embedded PostgreSQL: unset DATABASE_URL.")
        if embedded_db.socket_dir() is None:
            raise CommandError("The embedded PostgreSQL is not running: start it with `make db`.")
        if shutil.which("wrk") is None:
            raise CommandError("wrk is missing: as root, `apt-get install wrk` (make bench does this when it can).")
        started = time.monotonic()
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        sets = [
            DataSet("full", "kast_bench", options["clients"]),
            DataSet("tenth", "kast_bench_tenth", options["clients"] // 10),
        ]
        for data_set in sets:
            self._ensure_seeded(data_set)
        secret = secrets.token_urlsafe(50)  # this run's only: the sessions made below die with it
        self.stdout.write("Collecting static files for production settings (var/staticfiles) ...")
        _manage("collectstatic", "--noinput", "-v0", env=_production_env(sets[0].database, secret))
        prepared = {}
        for data_set in sets:
            into = BENCH_DIR / f"prepared-{data_set.key}.json"  # holds session keys: removed below
            try:
                _python(PREPARE, str(into), env=_production_env(data_set.database, secret))
                prepared[data_set.key] = json.loads(into.read_text())
            finally:
                into.unlink(missing_ok=True)
        load_before = os.getloadavg()
        servers = {data_set.key: Server(data_set.database, secret, options["workers"]) for data_set in sets}
        try:
            for server in servers.values():
                server.start()
            results = self._measure(prepared, servers, options)
        finally:
            for server in servers.values():
                server.stop()
        report = {
            "date": timezone.localtime().isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "settings": {
                name: options[name] for name in ("duration", "warm_up", "runs", "connections", "workers", "pages")
            },
            "sizes": results,
            "table": _table(results),
            "seconds": round(time.monotonic() - started),
        }
        self._print(report)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        (BENCH_DIR / f"{stamp}.json").write_text(text)
        (BENCH_DIR / "latest.json").write_text(text)
        self.stdout.write(f"\nWritten to var/bench/{stamp}.json and var/bench/latest.json ({report['seconds']} s).")

    def _measure(self, prepared: dict, servers: dict[str, Server], options) -> dict:
        """wrk against each page, the two sizes in turn run by run, so a noisy moment hits both alike."""
        connections = options["connections"]
        results = {key: {**size, "pages": []} for key, size in prepared.items()}
        self.stdout.write(
            f"\nwrk, {connections} connections, {options['runs']} runs per page and size (full and tenth in turn):"
        )
        chosen = _chosen([page["key"] for page in prepared["full"]["pages"]], options["pages"])
        for index, page in enumerate(prepared["full"]["pages"]):
            if page["key"] not in chosen:
                continue
            pages = {key: size["pages"][index] for key, size in prepared.items()}
            # A slow page gets longer runs, so each still has enough requests for a 95th percentile (and
            # the warm-up reaches every worker): the expected latency under load, from the single request.
            expected = max(p["single_ms"] for p in pages.values()) / 1000 * connections / (os.cpu_count() or 1)
            warm_up = min(MAX_WARM_UP_SECONDS, max(options["warm_up"], math.ceil(2 * expected)))
            seconds = max(options["duration"], math.ceil(MIN_REQUESTS * expected / connections))
            seconds = min(MAX_RUN_SECONDS, seconds)
            for key, server in servers.items():
                status = _status(server.port, pages[key])
                if status != 200:
                    raise CommandError(
                        f"{page['label']}: gunicorn answered HTTP {status} for {pages[key]['path']} (see {server.log})."
                    )
                _wrk(server.port, pages[key], seconds=warm_up, connections=connections)
            runs: dict[str, list[dict]] = {key: [] for key in servers}
            for _ in range(options["runs"]):
                for key, server in servers.items():
                    runs[key].append(_wrk(server.port, pages[key], seconds=seconds, connections=connections))
            # A PDF's aim is for one request at a time (full data, warm): one connection, after the load.
            alone = None
            if page["key"] in PDF_PAGES:
                alone_seconds = min(MAX_RUN_SECONDS, max(options["duration"], math.ceil(MIN_REQUESTS * expected)))
                alone = [
                    _wrk(servers["full"].port, pages["full"], seconds=alone_seconds, connections=1)
                    for _ in range(options["runs"])
                ]
            line = f"  {page['label']:32}"
            for key in servers:
                if min(run["requests"] for run in runs[key]) == 0:
                    raise CommandError(f"{page['label']}: no request finished within a {seconds} s run ({key}).")
                figures = _figures(pages[key], runs[key], seconds)
                if alone is not None and key == "full":
                    figures["p50_alone_ms"] = statistics.median(run["p50_us"] for run in alone) / 1000
                    figures["alone_runs"] = alone
                results[key]["pages"].append(figures)
                line += f"  {key} p50 {figures['p50_ms']:7.1f} ms p95 {figures['p95_ms']:7.1f} ms"
            if alone is not None:
                line += f"  one at a time p50 {results['full']['pages'][-1]['p50_alone_ms']:7.1f} ms"
            self.stdout.write(line)
        return results

    def _ensure_seeded(self, data_set: DataSet) -> None:
        """Migrate the data set's database; seed it first when its stamp is missing (a fresh database then)."""
        stamp_path = BENCH_DIR / f"seeded-{data_set.database}.json"
        stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else None
        env = {**os.environ, "EMBEDDED_DB_NAME": data_set.database, "DEBUG": "true"}
        env["DJANGO_SETTINGS_MODULE"] = "kast.settings.dev"
        if stamp and stamp["clients"] == data_set.clients:
            # Owned by the owner role, the runtime role granted what it needs (an older data set is handed over).
            embedded_db.create_database(data_set.database)
            _manage("migrate", "--noinput", "-v0", env=env)
            if stamp["seeders"] != _seeders_digest():
                self.stdout.write(
                    f"Note: {data_set.database} was seeded before the seeders last changed; "
                    f"delete {stamp_path.relative_to(settings.BASE_DIR)} to seed it again."
                )
            self.stdout.write(f"{data_set.database}: seeded with {data_set.clients} clients on {stamp['date']}.")
            return
        self.stdout.write(f"{data_set.database}: a fresh database, seeding {data_set.clients} clients ...")
        started = time.monotonic()
        _recreate_database(data_set.database)
        _manage("migrate", "--noinput", "-v0", env=env)
        _manage("seed_demo", "--clients", str(data_set.clients), "-v2", env=env)
        stamp = {
            "clients": data_set.clients,
            "date": timezone.localdate().isoformat(),
            "seconds": round(time.monotonic() - started),
            "seeders": _seeders_digest(),
        }
        stamp_path.write_text(json.dumps(stamp) + "\n")

    def _print(self, report: dict) -> None:
        full, tenth = report["sizes"]["full"], report["sizes"]["tenth"]
        self.stdout.write("")
        for size in (full, tenth):
            data = size["data"]
            self.stdout.write(
                f"{size['database']}: {data['clients']} clients, {data['therapists']} therapists, "
                f"{data['sessions']} sessions, {data['notes']} notes, {data['questionnaires']} questionnaires, "
                f"{data['answers']} answers."
            )
        s = report["settings"]
        self.stdout.write(
            f"gunicorn, {s['workers']} sync workers, production settings; wrk, {s['connections']} connections, "
            f"{s['runs']} runs of {s['duration']} s or more after {s['warm_up']} s or more of warm-up, median of "
            f"the runs; {report['machine']['cpus']} cores, load average {report['machine']['load_average_before'][0]} "
            f"before, {report['machine']['load_average_after'][0]} after."
        )
        self.stdout.write(
            f"\n{'page':32} {'alone':>8} {'p50':>9} {'p95':>9} {'×floor':>7} {'×layout':>7} {'+layout':>9} "
            f"{'p95 1/10':>9} {'full/tenth':>10} "
            f"{'req/s':>6} {'errors':>6} {'queries':>8}"
        )
        for row in report["table"]:
            queries = str(row["queries"])
            if row["queries_tenth"] != row["queries"]:
                queries += f" ({row['queries_tenth']})"
            if row["queries_cached"] != row["queries"]:
                queries += f"→{row['queries_cached']}"
            misses_under_load = row["misses_p50"] and row["p50_alone_ms"] is None
            self.stdout.write(
                f"{row['label']:32} {row['single_ms']:6.1f}ms {row['p50_ms']:7.1f}ms{'!' if misses_under_load else ' '}"
                f"{row['p95_ms']:7.1f}ms "
                f"{row['floor_ratio']:6.1f}{'!' if row['misses_floor'] else ' '} {row['layout_ratio']:7.1f} "
                f"{row['over_layout_ms']:7.1f}ms {row['p95_tenth_ms']:7.1f}ms "
                f"{row['growth']:9.2f}{'!' if row['misses_growth'] else ' '} {row['rps']:6.0f} "
                f"{row['errors'] + row['errors_tenth']:6d} {queries:>8}"
            )
        self.stdout.write(
            "\nalone: one request in-process before the load, nothing cached (full data); p50, p95: under load, "
            "full data; "
            f"×floor: p95 over the floor's (/healthz) p95 (aim: {AIM_FLOOR:g}, the PDFs {AIM_FLOOR_PDF:g}); "
            "×layout: p95 over the signed-in empty page's p95; +layout: p50 less that page's p50 (what the page "
            "itself costs beyond session, second factor, middleware and base template); full/tenth: p95 at "
            f"full data over p95 at a tenth (aim: {AIM_GROWTH:g}); ! marks a missed aim. Errors: both sizes; "
            "queries: full data (a tenth's, when different; → with the figures cached). The PDFs' p50 aims: "
            + ", ".join(f"{key} {ms:g} ms" for key, ms in AIM_P50_MS.items())
            + ", one request at a time (below)."
        )
        alone = [row for row in report["table"] if row["p50_alone_ms"] is not None]
        if alone:
            self.stdout.write("\nThe PDFs one request at a time (gunicorn, one connection, full data, warm):")
        for row in alone:
            self.stdout.write(
                f"  {row['label']:32} p50 {row['p50_alone_ms']:7.1f} ms{'!' if row['misses_p50'] else ' '} "
                f"(aim {AIM_P50_MS[row['key']]:g} ms)"
            )


def _prepare(into: Path) -> None:
    """In a child process on one data set: the pages, sessions for their users, and each page's query count."""
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    therapist = User.objects.filter(username="behandlare1").first()
    manager = User.objects.filter(username="enhetschef").first()
    if therapist is None or manager is None:
        raise CommandError("No demo users: this database was not seeded by seed_demo.")
    cookies = {user.pk: f"{settings.SESSION_COOKIE_NAME}={_signed_in(user)}" for user in (therapist, manager)}
    pages = []
    for page in _pages(therapist, manager):
        headers = _headers(cookies[page.user.pk] if page.user else "", post=page.post)
        # The same headers wrk sends, and CSRF checked as gunicorn will: a refused POST fails here, not under load.
        browser = Browser(enforce_csrf_checks=True, headers=headers)
        request = browser.post if page.post else browser.get
        request(page.path)  # warm-up: connection, templates
        # Alone means computed: the managers' figures are cached until their data change (kast.cached_figures),
        # and the first request after a write pays for them in full.
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = request(page.path)
            single = time.perf_counter() - started
        if response.status_code != 200:
            raise CommandError(f"{page.label}: HTTP {response.status_code} for {page.path}")
        with CaptureQueriesContext(connection) as cached_queries:
            request(page.path)
        pages.append(
            {
                "key": page.key,
                "label": page.label,
                "path": page.path,
                "method": "POST" if page.post else "GET",
                "headers": headers,
                "queries": len(queries.captured_queries),
                "queries_cached": len(cached_queries.captured_queries),
                "single_ms": single * 1000,
            }
        )
    result = {"database": connection.settings_dict["NAME"], "data": _data_counts(), "pages": pages}
    into.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def _figures(page: dict, runs: list[dict], seconds: int) -> dict:
    """The median of the runs' percentiles; requests and errors summed; no session key, no record id."""
    return {
        "key": page["key"],
        "label": page["label"],
        "path": _shown_path(page["path"]),
        "queries": page["queries"],
        "queries_cached": page["queries_cached"],
        "single_ms": page["single_ms"],
        "run_seconds": seconds,
        "p50_ms": statistics.median(run["p50_us"] for run in runs) / 1000,
        "p95_ms": statistics.median(run["p95_us"] for run in runs) / 1000,
        "requests": sum(run["requests"] for run in runs),
        "rps": statistics.median(run["requests"] / (run["duration_us"] / 1e6) for run in runs),
        "errors": sum(sum(run["errors"].values()) for run in runs),
        "runs": runs,
    }


def _pages(therapist: User, manager: User) -> list[Page]:
    """The issue's pages, for a demo therapist (a realistic caseload of 23) and the Göteborg unit manager."""
    from clients.models import Client
    from sessions.models import TherapySession

    busiest = (
        Client.objects.visible_to(therapist)
        .annotate(n=Count("therapy_sessions"))
        .order_by("-n", "code")
        .values_list("pk", flat=True)
        .first()
    )
    # The latest session held or due by today: the note a therapist opens to write or read.
    session = (
        TherapySession.objects.filter(client_id=busiest, date__lte=timezone.localdate(), voided_at=None)
        .order_by("-date", "-start_time")
        .values_list("pk", flat=True)
        .first()
    )
    if busiest is None or session is None:
        raise CommandError(f"{therapist.username} has no client with sessions: was this database seeded?")
    return [
        Page("floor", "floor: /healthz", None, reverse("healthz")),
        # The second floor: signed in, the whole layout, no data (the framework's cost of every page).
        Page("layout", "floor: signed-in empty page", therapist, reverse(LAYOUT_FLOOR)),
        Page("login", "login page", None, reverse("login")),
        Page("start", "therapist: start page", therapist, reverse("home")),
        Page("caseload", "therapist: caseload", therapist, reverse("clients:list")),
        Page("timeline", "therapist: client's timeline", therapist, reverse("sessions:timeline", args=[busiest])),
        Page("note", "therapist: note page", therapist, reverse("sessions:detail", args=[session])),
        Page("reports", "manager: questionnaire reports", manager, reverse("figures:reports")),
        Page("dashboard", "manager: dashboard, this year", manager, reverse("figures:dashboard") + "?period=year"),
        Page("pdf", "therapist: intake PDF", therapist, reverse("clients:intake_pdf", args=[busiest]), post=True),
        # Last year's report, the one a manager prints in January (the dashboard's button: a POST).
        Page(
            "year_pdf",
            "manager: yearly report PDF",
            manager,
            reverse("figures:dashboard_year_pdf", args=[timezone.localdate().year - 1]),
            post=True,
        ),
    ]


def _headers(cookie: str, *, post: bool) -> dict[str, str]:
    """The request headers of a page: the session cookie, and for a POST a CSRF cookie with its token."""
    if not post:
        return {"Cookie": cookie} if cookie else {}
    token = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    cookies = "; ".join(part for part in (cookie, f"{settings.CSRF_COOKIE_NAME}={token}") if part)
    return {"Cookie": cookies, "X-CSRFToken": token}


def _signed_in(user: User) -> str:
    """A session key for `user`, as a login would store it (and verified for two-factor login when that is on)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = STAFF_BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    mark_seen(store)
    if apps.is_installed("django_otp"):
        from django_otp import DEVICE_ID_SESSION_KEY

        store[DEVICE_ID_SESSION_KEY] = _otp_device(user).persistent_id
    store.create()
    return store.session_key


def _otp_device(user: User):
    """A confirmed second-factor device of `user`; a TOTP (or static) one named after the bench when none exists."""
    from django_otp import devices_for_user

    device = next(iter(devices_for_user(user, confirmed=True)), None)
    if device is not None:
        return device
    for app, model in (("otp_totp", "TOTPDevice"), ("otp_static", "StaticDevice")):
        if apps.is_installed(f"django_otp.plugins.{app}"):
            return apps.get_model(app, model).objects.create(user=user, name="make bench", confirmed=True)
    raise CommandError(f"Two-factor login is on, but {user.username} has no device and none can be made.")


def _data_counts() -> dict[str, int]:
    from assessments.models import Administration, Answer
    from clients.models import Client
    from sessions.models import Note, TherapySession

    return {
        "clients": Client.objects.count(),
        "therapists": User.objects.filter(role=Role.THERAPIST).count(),
        "sessions": TherapySession.objects.count(),
        "notes": Note.objects.count(),
        "questionnaires": Administration.objects.count(),
        "answers": Answer.objects.count(),
    }


#: The pages every other page is compared with (the table's ratios): always measured.
FLOORS = ("floor", "layout")


def _chosen(keys: list[str], asked: str) -> list[str]:
    """The keys of the pages to measure: those asked for (all when none) and the floors, in the pages' order."""
    wanted = {key.strip() for key in asked.split(",") if key.strip()}
    unknown = wanted - set(keys)
    if unknown:
        raise CommandError(f"No page {', '.join(sorted(unknown))}: the pages are {', '.join(keys)}.")
    return [key for key in keys if not wanted or key in wanted or key in FLOORS]


def _table(results: dict) -> list[dict]:
    full = {page["key"]: page for page in results["full"]["pages"]}
    tenth = {page["key"]: page for page in results["tenth"]["pages"]}
    rows = []
    for key, page in full.items():
        small = tenth[key]
        floor_ratio = page["p95_ms"] / full["floor"]["p95_ms"]
        layout_ratio = page["p95_ms"] / full["layout"]["p95_ms"]
        growth = page["p95_ms"] / small["p95_ms"]
        # A PDF's p50 aim holds for one request at a time when that was measured (see AIM_P50_MS).
        p50_for_aim = page.get("p50_alone_ms", page["p50_ms"])
        rows.append(
            {
                "key": key,
                "label": page["label"],
                "single_ms": round(page["single_ms"], 1),
                "p50_ms": round(page["p50_ms"], 1),
                "p95_ms": round(page["p95_ms"], 1),
                "p50_alone_ms": round(page["p50_alone_ms"], 1) if "p50_alone_ms" in page else None,
                "floor_ratio": round(floor_ratio, 2),
                "layout_ratio": round(layout_ratio, 2),
                "over_layout_ms": round(page["p50_ms"] - full["layout"]["p50_ms"], 1),
                "p95_tenth_ms": round(small["p95_ms"], 1),
                "floor_ratio_tenth": round(small["p95_ms"] / tenth["floor"]["p95_ms"], 2),
                "growth": round(growth, 2),
                "rps": round(page["rps"], 1),
                "errors": page["errors"],
                "errors_tenth": small["errors"],
                "queries": page["queries"],
                "queries_cached": page["queries_cached"],
                "queries_tenth": small["queries"],
                "misses_floor": floor_ratio > (AIM_FLOOR_PDF if key in PDF_PAGES else AIM_FLOOR),
                "misses_growth": growth > AIM_GROWTH,
                "misses_p50": p50_for_aim > AIM_P50_MS.get(key, math.inf),
            }
        )
    return rows


def _production_env(database: str, secret: str) -> dict[str, str]:
    """Production settings on loopback over plain HTTP: only what HTTPS behind a proxy would otherwise give."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kast.settings.production",
        "EMBEDDED_DB_NAME": database,
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "0",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DEBUG", None)
    env.pop("DATABASE_URL", None)
    return env


def _manage(*arguments: str, env: dict[str, str]) -> None:
    """This project's manage.py in a process of its own (another database, other settings)."""
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, env=env, check=True)  # noqa: S603


def _python(code: str, *arguments: str, env: dict[str, str]) -> None:
    """`code` in a Python process of its own, in this project (another database, other settings)."""
    subprocess.run([sys.executable, "-c", code, *arguments], cwd=settings.BASE_DIR, env=env, check=True)  # noqa: S603


def _recreate_database(name: str) -> None:
    """An empty database, owned by the owner role: migrate and seed_demo run as the owner, gunicorn as the app."""
    embedded_db.create_database(name, recreate=True)


def _seeders_digest() -> str:
    digest = hashlib.sha256()
    for path in SEEDERS:
        source = Path(settings.BASE_DIR) / path
        digest.update(source.read_bytes() if source.exists() else b"")
    return digest.hexdigest()[:16]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(port: int, page: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(page["method"], page["path"], headers=page["headers"])
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wrk(port: int, page: dict, *, seconds: int, connections: int) -> dict:
    method = page["method"]
    text = f'wrk.method = "{method}"\n' + WRK_SCRIPT
    script = BENCH_DIR / f"report-{method.lower()}.lua"
    if not script.exists() or script.read_text() != text:
        script.write_text(text)
    command = ["wrk", "--threads=1", f"--connections={connections}", f"--duration={seconds}s", "--timeout=30s"]
    command += ["--script", str(script)]
    for name, value in page["headers"].items():
        command += ["--header", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{page['path']}")
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout  # noqa: S603
    line = next((line for line in output.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise CommandError(f"wrk gave no figures for {page['path']}:\n{output}")
    return json.loads(line.removeprefix("BENCH "))


def _shown_path(path: str) -> str:
    """The path without the record's id (a fake client's UUID says nothing, but the JSON needs none)."""
    parts = path.split("/")
    return "/".join("<id>" if len(part) == 36 and part.count("-") == 4 else part for part in parts)
