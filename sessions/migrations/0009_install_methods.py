"""Give every existing clinic the common list of methods, with their stable codes (the clinic adds its own later)."""

from django.db import migrations

# The MethodCode values in their order, as they were when this migration was written.
CODES = [
    "family_map",
    "systemic",
    "experiential",
    "attachment",
    "externalising",
    "cbt_stop",
    "exposure",
    "self_soothing",
    "self_compassion",
    "porn_abstinence",
    "partner",
    "psychoeducation",
    "solution_focus",
]


def install(apps, schema_editor):
    Clinic = apps.get_model("kast", "Clinic")
    Method = apps.get_model("therapy_sessions", "Method")
    for clinic in Clinic.objects.all():
        Method.objects.bulk_create(
            [Method(clinic=clinic, code=code, position=n) for n, code in enumerate(CODES, start=1)],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("therapy_sessions", "0008_methods")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
