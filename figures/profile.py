"""Which tables and rows of the figures a clinic's profile shows (kast.profile): none of a part it does not offer.

A clinic's figures (its staff's, or national follow-up's view of that one clinic) follow its profile; all clinics'
figures keep every table, since some clinic may offer what another does not. Only what is shown changes: the
counts and their protection (figures.suppression) are made from every table, so a table left out never changes
what another shows or hides.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from kast.profile import clinic_offers

if TYPE_CHECKING:
    from figures.statistics import Table
    from kast.models import Clinic

#: A dashboard table (its key) -> the part of the clinic's work it counts.
TABLES: dict[str, str] = {
    "advice": "advice",
    "outreach": "outreach",
    "groups": "groups",  # the group programmes' table, once the groups app is in
}

#: Rows (table key, row key) of a table that counts more than one part. "Relatives and children" keeps its
#: children's rows (the child perspective is asked on clients' records too) and the couple sessions.
ROWS: dict[tuple[str, str], str] = {
    ("relatives", "relatives_new"): "relatives",
    ("relatives", "relatives_unlinked"): "relatives",
    ("relatives", "relatives_in_support"): "relatives",
    ("relatives", "relative"): "relatives",
    ("volume", "fee_charged"): "fees",
    ("volume", "fee_paid"): "fees",
}


def shown_tables(tables: list[Table], clinic: Clinic | None) -> list[Table]:
    """`tables` as `clinic`'s profile shows them (None: all clinics, every table)."""
    if clinic is None:
        return tables
    shown = []
    for table in tables:
        part = TABLES.get(table.key)
        if part is not None and not clinic_offers(clinic, part):
            continue
        rows = [row for row in table.rows if clinic_offers_row(clinic, table.key, row.key)]
        shown.append(table if len(rows) == len(table.rows) else dataclasses.replace(table, rows=rows))
    return shown


def clinic_offers_row(clinic: Clinic, table: str, row: str) -> bool:
    part = ROWS.get((table, row))
    return part is None or clinic_offers(clinic, part)
