"""The managers' figures, computed once per state of the data they are counted from.

The dashboard and the questionnaire reports aggregate a clinic's whole history, so their cost grows with it.
They are kept in the cache under the clinic's stamp (kast.FiguresStamp), which PostgreSQL's triggers move in
the same transaction as any write to the data counted (kast.triggers.FiguresChanged): a stamp that has not
moved means the figures have not changed, and a write is in the next request's figures. The cache holds
counts only (no client's data), per process (the default local-memory cache), and each worker fills its own.

Reading the stamp before computing keeps a cached figure from ever being older than its key says: a write
committed while the figures are computed may be in them already, and its new stamp then computes them again.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from figures import key_figures, reports, statistics
from kast.models import Clinic, User
from kast.triggers import SHARED

T = TypeVar("T")

#: The stamps decide what is current; the timeout only lets unused figures go.
TIMEOUT_SECONDS = 60 * 60


def stamps(clinic: Clinic | None) -> str | None:
    """The stamps a clinic's figures depend on (its own and the shared one; every stamp for all clinics).

    None when this transaction has written: its own writes do not move the stamps again, so figures it
    reads must be computed (a request commits on its own, so this is a script's or a test's case). One query.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT txid_current_if_assigned() IS NOT NULL,
                   coalesce(string_agg(clinic_id || ':' || txid, ',' ORDER BY clinic_id), '')
            FROM kast_figuresstamp WHERE %(all)s OR clinic_id IN (%(shared)s, %(clinic)s)
            """,
            {"all": clinic is None, "shared": SHARED, "clinic": clinic.pk if clinic is not None else SHARED},
        )
        writing, state = cursor.fetchone()
    return None if writing else state


@dataclass(frozen=True)
class Cached(Generic[T]):
    """Figures and the key they are cached under, for the page to cache what it renders of them too (the
    tables of a clinic with many therapists cost more to render than to read). No key: computed for a
    transaction that has written, so neither they nor their rendering may be kept."""

    value: T
    key: str | None

    @property
    def timeout(self) -> int:
        """For the template's {% cache %}: 0 keeps nothing."""
        return TIMEOUT_SECONDS if self.key else 0


def _cached(name: str, clinic: Clinic | None, parts: tuple[object, ...], compute: Callable[[], T]) -> Cached[T]:
    state = stamps(clinic)
    if state is None:
        return Cached(compute(), None)
    # The language, since labels are translated as the figures are made; the date, since "now" moves at midnight.
    described = repr((name, clinic.pk if clinic else None, parts, get_language(), timezone.localdate(), state))
    key = "figures:" + hashlib.sha256(described.encode()).hexdigest()
    figures = cache.get(key)
    if figures is None:
        figures = compute()
        cache.set(key, figures, TIMEOUT_SECONDS)
    return Cached(figures, key)


def dashboard(
    clinic: Clinic | None, start: datetime.date, end: datetime.date, *, therapist: User | None = None
) -> Cached[statistics.Dashboard]:
    """statistics.dashboard, computed once per state of the clinic's data."""
    return _cached(
        "dashboard",
        clinic,
        (start, end, therapist.pk if therapist else None),
        lambda: statistics.dashboard(clinic, start, end, therapist=therapist),
    )


def own_marks(clinic: Clinic | None, start: datetime.date, end: datetime.date) -> Cached[dict[Hashable, str]]:
    """The marks of one clinic's dashboard protected on their own, as its staff see them (statistics.dashboard_marks):
    the complementary suppression walks every sum of the year's figures, which costs more than reading them."""
    return _cached(
        "own_marks", clinic, (start, end), lambda: statistics.dashboard_marks(dashboard(clinic, start, end).value)
    )


def dashboard_marks(clinic: Clinic | None, start: datetime.date, end: datetime.date) -> Cached[dict[Hashable, str]]:
    """National follow-up's marks (figures.suppression) for the dashboard of one clinic or all, protected together
    with every other clinic's: it sees all of them, so all clinics' figure less the others' must hide what each
    clinic's own figures hide. Cached under every clinic's stamp; each clinic's figures under its own."""

    def compute() -> dict[int | None, dict[Hashable, str]]:
        clinics = {c.pk: dashboard(c, start, end).value for c in Clinic.objects.order_by("pk")}
        whole, by_clinic = statistics.dashboard_marks_across(dashboard(None, start, end).value, clinics)
        all_marks: dict[int | None, dict[Hashable, str]] = {None: whole}
        all_marks.update(by_clinic.items())
        return all_marks

    marks = _cached("dashboard_marks", None, (start, end), compute)
    return Cached(marks.value[clinic.pk if clinic is not None else None], marks.key)


def clinics_key_figures(
    start: datetime.date, end: datetime.date
) -> Cached[list[tuple[str, list[key_figures.KeyFigure]]]]:
    """National follow-up's first screen across clinics: each clinic's key figures (figures.key_figures), by name,
    against the same period a year earlier, every count protected together with all clinics' (dashboard_marks)."""
    earlier_start, earlier_end = key_figures.earlier_period(start, end)

    def compute() -> list[tuple[str, list[key_figures.KeyFigure]]]:
        return [
            (
                clinic.name,
                key_figures.key_figures(
                    dashboard(clinic, start, end).value,
                    dashboard_marks(clinic, start, end).value,
                    dashboard(clinic, earlier_start, earlier_end).value,
                    dashboard_marks(clinic, earlier_start, earlier_end).value,
                ),
            )
            for clinic in Clinic.objects.order_by("name")
        ]

    return _cached("clinics_key_figures", None, (start, end), compute)


def questionnaire_report(selection: reports.Selection, *, national: bool = False) -> Cached[reports.ShownReport]:
    """The reports page's figures as shown, once per state of the data. As shown, not as counted: the sign tests
    and the number formatting cost as much as the queries.

    A clinic's staff see their clinic's figures protected on their own (figures.suppression). National follow-up
    sees coverage by clinic, and every clinic's figures protected together with all clinics' (a clinic refused
    for having fewer than 5 people cannot be worked out from all clinics less the others).
    """

    def compute() -> reports.ShownReport:
        if not national:
            return reports.shown_report(reports.report_for(selection))
        clinics = list(Clinic.objects.order_by("pk"))
        whole = reports.report_for(replace(selection, clinic=None), by_clinic=True)
        parts = {c.pk: reports.report_for(replace(selection, clinic=c), by_clinic=True) for c in clinics}
        whole_marks, by_clinic = reports.marks_across(whole, parts, {c.pk: c.name for c in clinics})
        if selection.clinic is None:
            return reports.shown_report(whole, whole_marks)
        return reports.shown_report(parts[selection.clinic.pk], by_clinic[selection.clinic.pk])

    return _cached(
        "questionnaire_report",
        None if national else selection.clinic,
        (
            selection.start,
            selection.end,
            selection.target_group,
            selection.clinic.pk if selection.clinic else None,
            national,
        ),
        compute,
    )
