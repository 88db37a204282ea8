"""Triggers shared by several apps' models (pgtrigger), kept apart from kast.models so any models module can import them."""

from __future__ import annotations

import pgtrigger
from django.db import models

#: The stamp of the data that every clinic's figures share (questionnaire versions, clinics' names).
SHARED = 0


class FiguresChanged(pgtrigger.Trigger):
    """Stamp the clinics whose figures a write changes, with the writing transaction (kast.FiguresStamp).

    The managers' figures are cached under their clinics' stamps (figures.cached_figures), so a stamp that
    PostgreSQL itself moves on every write is what keeps a cached figure from ever being older than the
    data. Row level, after the write; the clinic is read from the row itself (`clinic`), through the
    client record it belongs to (`client`), or is the shared stamp (neither). Within one transaction
    only the first row writes the stamp, so a bulk insert costs one index lookup per row.

    The stamp row is locked from that first write until commit: writes that change the same clinic's
    figures commit one after the other, as a counter row makes them.
    """

    when = pgtrigger.After
    level = pgtrigger.Row

    def __init__(
        self, *, name: str, clinic: str = "", client: str = "", operation: pgtrigger.Operation | None = None
    ) -> None:
        if clinic and client:
            raise ValueError("FiguresChanged reads the clinic from one column: `clinic` or `client`.")
        self.clinic_column = clinic
        self.client_column = client
        super().__init__(name=name, operation=operation or (pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete))

    def get_func(self, model: models.Model) -> str:
        if self.clinic_column:
            column = self.clinic_column
            clinics = f"SELECT DISTINCT c FROM unnest(ARRAY[NEW.{column}, OLD.{column}]) AS c WHERE c IS NOT NULL"  # noqa: S608
        elif self.client_column:
            column = self.client_column
            clinics = f"SELECT DISTINCT clinic_id FROM clients_client WHERE id IN (NEW.{column}, OLD.{column})"  # noqa: S608
        else:
            clinics = f"SELECT {SHARED}"
        # NEW is null on DELETE and OLD on INSERT (PostgreSQL 11+), so reading both covers every operation.
        # The columns interpolated here are the models' own, named in code: nothing comes from a request.
        return f"""
            INSERT INTO kast_figuresstamp AS stamp (clinic_id, txid)
            SELECT clinic, txid_current() FROM ({clinics}) AS changed (clinic)
            WHERE NOT EXISTS (
                SELECT 1 FROM kast_figuresstamp WHERE clinic_id = changed.clinic AND txid = txid_current()
            )
            ON CONFLICT (clinic_id) DO UPDATE SET txid = EXCLUDED.txid;
            RETURN NULL;
        """  # noqa: S608
