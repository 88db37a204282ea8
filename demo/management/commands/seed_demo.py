"""Demo clinics, staff accounts and fake clients for a development machine (refuses to run with DEBUG off)."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.services import clinic_install_referral_destinations
from kast.db_roles import owner_connection
from kast.models import Clinic, Role, User
from sessions.services import clinic_install_lists

if TYPE_CHECKING:
    from demo.clinic_work import ClinicWorkWritten

DEMO_PASSWORD = "kast-demo-2026"  # noqa: S105  (published in README; seed_demo refuses without DEBUG)
#: The second factor of every demo account, published in README like the password: the key to add to an
#: authenticator app (base32, as apps take it), and backup codes, each good for one login (a new run
#: restores them).
DEMO_TOTP_KEY = "KASTDEMOKASTDEMOKASTDEMOKASTDEMO"
DEMO_BACKUP_CODES = [f"kastdemo{n}" for n in range(1, 11)]

CLINICS = [("Göteborg", "GBG"), ("Malmö", "MLM"), ("Stockholm", "STH")]
#: What each demo clinic offers (kast.profile), so that the three show three ways of working: Göteborg all of it
#: (its group programme is the 2018 pilot's), Malmö no group programmes, Stockholm neither groups nor fees.
CLINIC_PROFILES = {
    "GBG": {},
    "MLM": {"offers_groups": False},
    "STH": {"offers_groups": False, "offers_fees": False},
}
#: The clinics of the load test's clients (`--clients N`): the two that load tests have always shared, so that a
#: bench run stays comparable with earlier ones (Stockholm, the demo's third clinic, shows another way of working).
LOAD_TEST_CLINICS = ("GBG", "MLM")
#: Stockholm's therapist has a small caseload of her own beside her outreach (the first statuses of DEMO_CASELOAD).
STOCKHOLM_CASELOAD = 8

# username, first name, last name, role, clinic code (None: all clinics)
STAFF = [
    ("behandlare1", "Anna", "Lindqvist", Role.THERAPIST, "GBG"),
    ("behandlare2", "Johan", "Berg", Role.THERAPIST, "GBG"),
    ("behandlare3", "Sara", "Nilsson", Role.THERAPIST, "MLM"),
    ("behandlare4", "Amir", "Haddad", Role.THERAPIST, "STH"),
    ("enhetschef", "Karin", "Holm", Role.MANAGER, "GBG"),
    ("enhetschef2", "Eva", "Sandberg", Role.MANAGER, "STH"),
    ("enhetschef3", "Per", "Dahl", Role.MANAGER, "MLM"),
    ("admin", "Erik", "Strand", Role.ADMIN, None),
    ("uppfoljning", "Maria", "Ström", Role.NATIONAL, None),
    ("forskare", "Lena", "Ek", Role.RESEARCHER, None),
]


class Command(BaseCommand):
    help = (
        "Create the demo clinics, staff accounts and the demo therapists' fake caseloads (idempotent); "
        "--clients N adds N simple fake clients for load tests, with therapists of their own. Development only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            metavar="N",
            help=(
                "Also add N simple fake clients for load tests, given to new load-test therapists of the demo "
                "clinics (last-gbg-001, ...; about 60 clients each, no login)."
            ),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            metavar="S",
            help="Seed of every random choice (default: the demo's fixed seed): the same seed makes the same data.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with a published password.")
        if options["clients"] < 0:
            raise CommandError("--clients must be zero or more.")
        # Faker is a development dependency: imported only once we know this is a development machine.
        from demo import clients as demo
        from demo import relatives as relatives_demo
        from demo import sessions as sessions_demo

        seed = demo.DEMO_SEED if options["seed"] is None else options["seed"]
        started = time.perf_counter()
        try:
            # As the owner of the tables, like a migration: it ends with ANALYZE, which only the owner may run.
            with owner_connection(), transaction.atomic(), demo.seeded_ids(seed):
                clinics = self._staff()
                sessions_demo.install_fees(clinics.values())
                therapists = list(
                    User.objects.filter(username__in=[s[0] for s in STAFF], role=Role.THERAPIST)
                    .exclude(clinic__code="STH")
                    .order_by("username")
                )
                caseloads = demo.seed_demo_clients(therapists, seed=seed)
                relatives = relatives_demo.seed_demo_relatives(therapists, seed=seed)
                # After the others, from a generator of its own: Göteborg's and Malmö's people stay as they were.
                stockholm_therapists = list(
                    User.objects.filter(username__in=[s[0] for s in STAFF], clinic__code="STH", role=Role.THERAPIST)
                )
                caseloads.add(
                    demo.seed_demo_clients(stockholm_therapists, per_therapist=STOCKHOLM_CASELOAD, seed=f"{seed}-STH")
                )
                work = self._clinic_work(list(clinics.values()), seed=seed)
                load_clinics = [clinics[code] for code in LOAD_TEST_CLINICS]
                extra = demo.seed_bulk_clients(load_clinics, options["clients"], seed=seed)
                bulk_relatives = (
                    relatives_demo.seed_bulk_relatives(load_clinics, seed=seed) if options["clients"] else 0
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
                self.stdout.write(
                    f"Demo caseloads: {caseloads.clients} clients for "
                    f"{len(therapists) + len(stockholm_therapists)} therapists."
                )
                self.stdout.write(
                    f"Demo sessions: {caseloads.sessions} sessions, {caseloads.notes} notes "
                    f"and {caseloads.follow_ups} follow-ups."
                )
                self.stdout.write(
                    f"Demo questionnaires: {caseloads.questionnaires} ({caseloads.submitted} submitted) "
                    f"with {caseloads.answers} answers."
                )
                self.stdout.write(
                    f"Demo relatives: {relatives.partners} partners of clients, {relatives.unlinked} without a "
                    f"registered client, {relatives.sessions} sessions (of them {relatives.group_sessions} of a "
                    f"couples group) with {relatives.notes} notes, {relatives.child_perspectives} child perspectives."
                )
            else:
                self.stdout.write("Demo caseloads already there: left as they were.")
            if work.advice_contacts or work.activities:
                self.stdout.write(
                    "Demo clinic work: advice contacts "
                    + ", ".join(f"{code} {n}" for code, n in sorted(work.advice_contacts.items()))
                    + "; outreach activities "
                    + ", ".join(f"{code} {n}" for code, n in sorted(work.activities.items()))
                    + "."
                )
            else:
                self.stdout.write("Demo clinic work already there: left as it was.")
        if options["clients"]:
            clinics_part = ", ".join(f"{code} {n}" for code, n in sorted(extra.per_clinic.items()))
            self.stdout.write(
                f"Added {extra.clients} clients ({clinics_part}) with {extra.episodes} treatment periods "
                f"and {extra.status_changes} status changes in {seconds:.1f} s, "
                f"for {extra.therapists} load-test therapists."
            )
            self.stdout.write(
                f"Added {extra.sessions} sessions ({extra.sessions / seconds:.0f} a second overall), "
                f"{extra.notes} notes and {extra.follow_ups} follow-ups."
            )
            self.stdout.write(f"Added {bulk_relatives} partners with records of their own, linked to their clients.")
            if options["verbosity"] >= 2:
                self.stdout.write(
                    f"Added {extra.questionnaires} questionnaires ({extra.submitted} submitted) "
                    f"with {extra.answers} answers."
                )

    def _clinic_work(self, clinics: list[Clinic], *, seed: int | str) -> ClinicWorkWritten:
        """The clinics' work beside the records, a year of it: advice contacts and outreach (demo.clinic_work), and
        Göteborg's group programme (demo.groups), after the caseloads and relatives it draws its couples from."""
        from demo import clinic_work, groups

        work = clinic_work.seed_clinic_work(clinics, seed=seed)
        groups.seed_group_programme(clinics, seed=seed)
        return work

    def _staff(self) -> dict[str, Clinic]:
        from demo.clients import staff_joined

        clinics = {
            code: Clinic.objects.update_or_create(code=code, defaults={"name": name, **CLINIC_PROFILES[code]})[0]
            for name, code in CLINICS
        }
        for clinic in clinics.values():
            clinic_install_lists(clinic)
            clinic_install_referral_destinations(clinic)
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
                    "date_joined": staff_joined(timezone.localdate()),
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
            self._second_factor(user)
        return clinics

    def _second_factor(self, user: User) -> None:
        # A new run gives back a usable second factor: the key, every backup code, no throttling.
        fresh = {"confirmed": True, "throttling_failure_count": 0, "throttling_failure_timestamp": None}
        TOTPDevice.objects.update_or_create(
            user=user,
            name="default",
            defaults={"key": base64.b32decode(DEMO_TOTP_KEY).hex(), "last_t": -1, **fresh},
        )
        backup, _ = StaticDevice.objects.update_or_create(user=user, name="backup", defaults=fresh)
        backup.token_set.all().delete()
        backup.token_set.bulk_create([backup.token_set.model(device=backup, token=code) for code in DEMO_BACKUP_CODES])
