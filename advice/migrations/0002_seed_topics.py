from django.db import migrations

DEFAULTS = [
    "Köp av sexuella tjänster",
    "Tvångsmässigt sexuellt beteende",
    "Oro för närstående",
    "Frågor om behandling",
    "Annat",
]


def install_topics(apps, schema_editor):
    """Every existing clinic gets the default topic list (a new clinic gets it from advice.admin's install)."""
    Clinic = apps.get_model("kast", "Clinic")
    AdviceTopic = apps.get_model("advice", "AdviceTopic")
    for clinic in Clinic.objects.all():
        AdviceTopic.objects.bulk_create(
            [AdviceTopic(clinic=clinic, name=name, position=n) for n, name in enumerate(DEFAULTS, start=1)],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("advice", "0001_initial")]

    operations = [migrations.RunPython(install_topics, migrations.RunPython.noop)]
