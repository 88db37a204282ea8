"""Demo clinics, staff accounts and fake clients for a development machine (refuses to run with DEBUG off)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from kast.models import Clinic, Role, User
from sessions.services import clinic_install_themes

DEMO_PASSWORD = "kast-demo-2026"  # noqa: S105  (published in README; seed_demo refuses without DEBUG)

CLINICS = [("Göteborg", "GBG"), ("Malmö", "MLM")]

# username, first name, last name, role, clinic code (None: all clinics)
STAFF = [
    ("behandlare1", "Anna", "Lindqvist", Role.THERAPIST, "GBG"),
    ("behandlare2", "Johan", "Berg", Role.THERAPIST, "GBG"),
    ("behandlare3", "Sara", "Nilsson", Role.THERAPIST, "MLM"),
    ("enhetschef", "Karin", "Holm", Role.MANAGER, "GBG"),
    ("admin", "Erik", "Strand", Role.ADMIN, None),
]


class Command(BaseCommand):
    help = (
        "Create the demo clinics, staff accounts and the demo therapists' fake caseloads (idempotent); "
        "--clients N adds N simple fake clients for load tests. Development only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            metavar="N",
            help="Also add N simple fake clients, spread over the demo clinics' therapists.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with a published password.")
        if options["clients"] < 0:
            raise CommandError("--clients must be zero or more.")
        # Faker is a development dependency: imported only once we know this is a development machine.
        from clients import demo
        from sessions import demo as sessions_demo

        started = time.perf_counter()
        try:
            with transaction.atomic():
                clinics = self._staff()
                sessions_demo.install_fees(clinics.values())
                therapists = list(
                    User.objects.filter(username__in=[s[0] for s in STAFF], role=Role.THERAPIST).order_by("username")
                )
                caseloads = demo.seed_demo_clients(therapists)
                extra = demo.seed_bulk_clients(
                    list(
                        User.objects.filter(role=Role.THERAPIST, is_active=True, clinic__in=clinics.values()).order_by(
                            "username"
                        )
                    ),
                    options["clients"],
                )
                # Fresh planner statistics for the rows just written: until autovacuum gets to them
                # PostgreSQL plans as if the tables were empty (nested loops over thousands of rows).
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started

        self.stdout.write(f"Demo data ready: {len(CLINICS)} clinics, {len(STAFF)} staff accounts.")
        if options["verbosity"] >= 2:
            if caseloads.clients:
                self.stdout.write(f"Demo caseloads: {caseloads.clients} clients for {len(therapists)} therapists.")
                self.stdout.write(
                    f"Demo sessions: {caseloads.sessions} sessions, {caseloads.notes} notes "
                    f"and {caseloads.follow_ups} follow-ups."
                )
                self.stdout.write(
                    f"Demo questionnaires: {caseloads.questionnaires} ({caseloads.submitted} submitted) "
                    f"with {caseloads.answers} answers."
                )
            else:
                self.stdout.write("Demo caseloads already there: left as they were.")
        if options["clients"]:
            clinics_part = ", ".join(f"{code} {n}" for code, n in sorted(extra.per_clinic.items()))
            self.stdout.write(
                f"Added {extra.clients} clients ({clinics_part}) with {extra.episodes} treatment periods "
                f"and {extra.status_changes} status changes in {seconds:.1f} s."
            )
            self.stdout.write(
                f"Added {extra.sessions} sessions ({extra.sessions / seconds:.0f} a second overall), "
                f"{extra.notes} notes and {extra.follow_ups} follow-ups."
            )
            if options["verbosity"] >= 2:
                self.stdout.write(
                    f"Added {extra.questionnaires} questionnaires ({extra.submitted} submitted) "
                    f"with {extra.answers} answers."
                )

    def _staff(self) -> dict[str, Clinic]:
        clinics = {
            code: Clinic.objects.update_or_create(code=code, defaults={"name": name})[0] for name, code in CLINICS
        }
        for clinic in clinics.values():
            clinic_install_themes(clinic)
        for username, first, last, role, clinic_code in STAFF:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "role": role,
                    "clinic": clinics.get(clinic_code),
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                    "is_active": True,
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
        return clinics
