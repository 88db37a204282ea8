# The log review queues changes to staff accounts (kast.AccessLogEntry.Action.ACCOUNT) as their own kind.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_log_review"),
        ("kast", "0009_account_changes_and_otp_secrets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="logreview",
            name="logreview_kind_valid",
        ),
        migrations.AlterField(
            model_name="logreview",
            name="kind",
            field=models.CharField(
                choices=[
                    ("emergency", "Opened outside the caseload (break the glass)"),
                    ("denied", "Refused attempt to open a record"),
                    ("volume", "Many records opened within one hour"),
                    ("print", "Printed"),
                    ("export", "Exported"),
                    ("account", "Change to a staff account (password reset, second factor, role or clinic)"),
                ],
                max_length=10,
                verbose_name="flagged as",
            ),
        ),
        migrations.AddConstraint(
            model_name="logreview",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["emergency", "denied", "volume", "print", "export", "account"])),
                name="logreview_kind_valid",
            ),
        ),
    ]
