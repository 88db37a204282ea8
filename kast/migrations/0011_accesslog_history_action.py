# The access log names a read of a record's change history (archive.history) as an action of its own.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('kast', '0010_clinic_opening_hours'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslogentry',
            name='action',
            field=models.CharField(choices=[('view', 'Viewed'), ('create', 'Created'), ('update', 'Changed'), ('print', 'Printed'), ('export', 'Exported'), ('denied', 'Denied'), ('reveal', 'Showed identity'), ('account', 'Changed a staff account'), ('history', 'Read the change history')], max_length=10, verbose_name='action'),
        ),
    ]
