"""Give every existing clinic the conversation guide's topics as its list of note themes."""

from django.db import migrations

# The GuideTopic values in the guide's order, as they were when this migration was written.
TOPICS = [
    "behaviour",
    "function",
    "feelings",
    "need_practice",
    "repetition",
    "pornography",
    "shame",
    "partner",
    "childhood",
    "children",
    "strategies",
    "motivation",
    "relapse",
]


def install(apps, schema_editor):
    Clinic = apps.get_model("kast", "Clinic")
    Theme = apps.get_model("therapy_sessions", "Theme")
    for clinic in Clinic.objects.all():
        Theme.objects.bulk_create(
            [Theme(clinic=clinic, topic=topic, position=n) for n, topic in enumerate(TOPICS, start=1)],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("therapy_sessions", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
