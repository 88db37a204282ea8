"""Family maps whose intake summary was printed before the lock existed are locked from their first print.

The print is in the access log (action "print" on the client's record, no reason: the right-of-access extract has
its own reason, a relative's summary is on a relative's record, which has no family map), so the paper copy that
already exists keeps its map's rows, as one printed from now on would.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Subquery


def lock_printed_maps(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    AccessLogEntry = apps.get_model("kast", "AccessLogEntry")
    prints = AccessLogEntry.objects.filter(
        action="print", object_type="clients.client", reason="", client_id=OuterRef("pk")
    )
    Client.objects.filter(kind="client", family_map_locked_at__isnull=True).filter(Exists(prints)).update(
        family_map_locked_at=Subquery(prints.order_by("at").values("at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0009_signing_and_error_marks"),
        ("kast", "0009_account_changes_and_otp_secrets"),
    ]

    operations = [migrations.RunPython(lock_printed_maps, migrations.RunPython.noop)]
