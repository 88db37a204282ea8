"""Demo clinics and staff accounts for a development machine (refuses to run with DEBUG off)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kast.models import Clinic, Role, User

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
    help = "Create the demo clinics and staff accounts (idempotent). Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with a published password.")
        with transaction.atomic():
            clinics = {
                code: Clinic.objects.update_or_create(code=code, defaults={"name": name})[0] for name, code in CLINICS
            }
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
        self.stdout.write(f"Demo data ready: {len(CLINICS)} clinics, {len(STAFF)} staff accounts.")
