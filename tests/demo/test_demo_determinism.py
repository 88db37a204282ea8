"""`seed_demo` is seeded: the same seed on the same clock makes the same rows, ids included; another seed others.

A test asserting on shares of unseeded demo data failed in about two runs of five; with every
generator seeded, a demo test either always passes or always fails.
"""

from __future__ import annotations

import hashlib
import io

import pghistory.models
import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import models, transaction
from django.test import override_settings
from django.utils import timezone

# Rows seed_demo does not write, or whose values are not the generator's: the figures' stamps hold
# transaction ids, a password hash has a random salt by design (Argon2), and the access log keeps the id of
# what was touched as text, not as a key (the log outlives the rows), so a serial id there cannot be ranked as
# the keys are below (the group programme's rows are written through the services, which log them).
SKIPPED_MODELS = {"kast.FiguresStamp"}
SKIPPED_COLUMNS = {("kast.User", "password"), ("kast.AccessLogEntry", "object_id")}
OTHER_APPS = {"contenttypes", "auth", "admin", "sessions", "axes", "pghistory"}


def demo_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label not in OTHER_APPS
        and m._meta.label not in SKIPPED_MODELS
        and not issubclass(m, pghistory.models.Event)  # stamped by the database clock
    ]


def digest_of_rows() -> dict[str, str]:
    """Model -> digest of its rows, as a set.

    A rolled-back transaction does not give back the serial numbers it took, so the second run's
    keys start higher: a reference to a serial key becomes the key's rank in its table, and a row's
    own serial key is left out (the rows are compared as a set). Even on fresh databases the
    order of a many-to-many's rows follows Python's set of the keys added, not the generator.
    """
    ranks: dict[type[models.Model], dict[object, int]] = {}
    for model in demo_models():
        if isinstance(model._meta.pk, models.AutoField):  # BigAutoField and SmallAutoField are AutoFields
            keys = model._base_manager.order_by("pk").values_list("pk", flat=True)
            ranks[model] = {key: rank for rank, key in enumerate(keys)}
    digests = {}
    for model in demo_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if (model._meta.label, f.attname) not in SKIPPED_COLUMNS and not (f.primary_key and model in ranks)
        ]
        rows = []
        for values in model._base_manager.order_by("pk").values_list(*[f.attname for f in fields]):
            row = []
            for f, value in zip(fields, values, strict=True):
                target = f.related_model if f.is_relation else None
                row.append(ranks[target][value] if target in ranks and value is not None else value)
            rows.append(repr(row))
        rows.sort()
        digests[model._meta.label] = f"{len(rows)} rows, " + hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def seeded_digest(*args: str) -> dict[str, str]:
    with override_settings(DEBUG=True), transaction.atomic():
        call_command("seed_demo", "--clients", "40", *args, stdout=io.StringIO())
        digest = digest_of_rows()
        transaction.set_rollback(True)
    return digest


@pytest.mark.django_db
def test_the_same_seed_makes_the_same_rows_and_another_seed_other_rows():
    # One clock for all three runs: the demo is dated relative to now.
    with time_machine.travel(timezone.now(), tick=False):
        first = seeded_digest()
        second = seeded_digest()
        other = seeded_digest("--seed", "7")

    assert first == second
    for label in ("clients.Client", "therapy_sessions.TherapySession", "therapy_sessions.Note", "assessments.Answer"):
        assert not first[label].startswith("0 rows"), label
        assert other[label] != first[label], label
