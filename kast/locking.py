"""Optimistic locking: a save names the version it was read at; a stale save is refused, not merged."""

from __future__ import annotations

from django.db import models
from django.db.models import F


class EditConflict(Exception):
    """Someone saved the record after this user opened it. `current` is the stored version."""

    def __init__(self, current: models.Model):
        super().__init__("edit conflict")
        self.current = current


def save_versioned(instance: models.Model, *, expected_version: int, fields: list[str]) -> None:
    """UPDATE ... WHERE version = expected: the database decides who was first, in one statement."""
    model = type(instance)
    values = {name: getattr(instance, name) for name in fields}
    updated = model.objects.filter(pk=instance.pk, version=expected_version).update(**values, version=F("version") + 1)
    if not updated:
        raise EditConflict(model.objects.get(pk=instance.pk))
    instance.version = expected_version + 1
