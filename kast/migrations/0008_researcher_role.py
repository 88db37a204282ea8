# The researcher role: the only one that produces the pseudonymised research file (assessments.research).

import django.db.models.deletion
from django.db import migrations, models

ROLES = [
    ("therapist", "Therapist"),
    ("manager", "Unit manager"),
    ("admin", "System administrator"),
    ("national", "National follow-up"),
    ("researcher", "Researcher"),
]
CLINIC_HELP = (
    "Required for therapists and unit managers. Administrators and national follow-up serve all clinics; "
    "a researcher without a clinic exports from all clinics."
)


class Migration(migrations.Migration):

    dependencies = [
        ("kast", "0007_figures_stamp"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="user",
            name="user_role_valid",
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="user_clinic_required_unless_admin",
        ),
        migrations.AlterField(
            model_name="accesslogentry",
            name="role",
            field=models.CharField(choices=ROLES, max_length=20, verbose_name="role"),
        ),
        migrations.AlterField(
            model_name="user",
            name="clinic",
            field=models.ForeignKey(
                blank=True,
                help_text=CLINIC_HELP,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="staff",
                to="kast.clinic",
                verbose_name="clinic",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(choices=ROLES, max_length=20, verbose_name="role"),
        ),
        migrations.AlterField(
            model_name="userevent",
            name="clinic",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text=CLINIC_HELP,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="kast.clinic",
                verbose_name="clinic",
            ),
        ),
        migrations.AlterField(
            model_name="userevent",
            name="role",
            field=models.CharField(choices=ROLES, max_length=20, verbose_name="role"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["therapist", "manager", "admin", "national", "researcher"])),
                name="user_role_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("role__in", ["admin", "national", "researcher"]), ("clinic__isnull", False), _connector="OR"
                ),
                name="user_clinic_required_unless_admin",
            ),
        ),
    ]
