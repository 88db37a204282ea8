"""Optimistic locking: a save names the version it was read at; a stale save is refused, not merged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.db import models
from django.db.models import F

if TYPE_CHECKING:
    from django.db.models.options import Options


class Versioned(Protocol):
    """A model with a `version` counter (a PositiveIntegerField starting at 1): what save_versioned saves."""

    version: int

    @property
    def pk(self) -> Any: ...

    @property
    def _meta(self) -> Options[Any]: ...


class EditConflict(Exception):
    """Someone saved the record after this user opened it. `current` is the stored version."""

    def __init__(self, current: models.Model):
        super().__init__("edit conflict")
        self.current = current


def save_versioned(instance: Versioned, *, expected_version: int, fields: list[str]) -> None:
    """UPDATE ... WHERE version = expected: the database decides who was first, in one statement."""
    # The model's default manager: each versioned model has one, `objects`.
    manager = instance._meta.model._default_manager
    values = {name: getattr(instance, name) for name in fields}
    updated = manager.filter(pk=instance.pk, version=expected_version).update(**values, version=F("version") + 1)
    if not updated:
        raise EditConflict(manager.get(pk=instance.pk))
    instance.version = expected_version + 1
