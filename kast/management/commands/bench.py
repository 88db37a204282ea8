"""Time the busiest pages on the current database: `make bench` runs it on 20 000 demo clients.

Speed is measured here, never asserted in a test (tests assert query counts instead). Each page
is requested in-process through Django's test client, signed in as a demo user, after one
warm-up request; the median, 90th percentile and worst of the timed runs are printed with the
page's query count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Administration, Answer
from clients.models import Client
from kast.models import User
from sessions.models import Note, TherapySession


class Command(BaseCommand):
    help = "Time the main pages on the current database (see `make bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=10, help="Timed requests per page (after one warm-up).")

    def handle(self, *args, **options):
        runs = options["runs"]
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        if "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        therapist = User.objects.filter(username="behandlare1").first()
        manager = User.objects.filter(username="enhetschef").first()
        if therapist is None or manager is None:
            raise CommandError("No demo users: run `DEBUG=1 manage.py seed_demo --clients 20000` first.")

        self.stdout.write(
            f"Data: {Client.objects.count()} clients, {TherapySession.objects.count()} sessions, "
            f"{Note.objects.count()} notes, {Administration.objects.count()} questionnaires, "
            f"{Answer.objects.count()} answers; {runs} timed runs per page.\n"
        )
        busiest = (
            Client.objects.visible_to(therapist)
            .annotate(n=Count("therapy_sessions"))
            .order_by("-n")
            .values_list("pk", flat=True)
            .first()
        )
        session = (
            TherapySession.objects.filter(client_id=busiest).order_by("-date").values_list("pk", flat=True).first()
        )
        pages: list[tuple[str, User, Callable[[], str]]] = [
            ("therapist: start page", therapist, lambda: reverse("home")),
            ("therapist: caseload", therapist, lambda: reverse("clients:list")),
            ("therapist: busiest client's timeline", therapist, lambda: reverse("sessions:timeline", args=[busiest])),
            ("therapist: a note page", therapist, lambda: reverse("sessions:detail", args=[session])),
            ("therapist: questionnaire reports", therapist, lambda: reverse("assessments:reports")),
            ("manager: start page (figures)", manager, lambda: reverse("home")),
            ("manager: questionnaire reports", manager, lambda: reverse("assessments:reports")),
            ("manager: figures, this year", manager, lambda: reverse("dashboard") + "?period=year"),
            ("therapist: own figures, this year", therapist, lambda: reverse("dashboard") + "?period=year"),
            ("manager: access log", manager, lambda: reverse("access_log")),
        ]
        self.stdout.write(f"{'page':44} {'median':>8} {'p90':>8} {'max':>8} {'queries':>8}")
        for label, user, url in pages:
            browser = Browser()
            browser.force_login(user)
            path = url()
            browser.get(path)  # warm-up: connection, templates, caches
            timings = []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = browser.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"{label}: HTTP {response.status_code} for {path}")
            timings.sort()
            p90 = timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))]
            self.stdout.write(
                f"{label:44} {statistics.median(timings):7.1f}ms {p90:7.1f}ms {timings[-1]:7.1f}ms "
                f"{len(queries.captured_queries):8d}"
            )
