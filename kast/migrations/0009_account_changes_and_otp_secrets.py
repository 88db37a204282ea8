# Changes to staff accounts in the login and access logs (kast.services.account_change_record), the throttled
# login in the login log, and the second factor's secrets at rest (kast.otp_secrets): every stored TOTP key is
# encrypted and every stored backup code hashed, in django-otp's own tables.

from django.db import migrations, models

from kast import otp_secrets


def secrets_at_rest(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, key FROM otp_totp_totpdevice WHERE key NOT LIKE %s", [otp_secrets.ENCRYPTED_PREFIX + "%"]
        )
        for pk, key in cursor.fetchall():
            cursor.execute("UPDATE otp_totp_totpdevice SET key = %s WHERE id = %s", [otp_secrets.encrypt_key(key), pk])
        cursor.execute("SELECT id, token FROM otp_static_statictoken")
        for pk, token in cursor.fetchall():
            cursor.execute(
                "UPDATE otp_static_statictoken SET token = %s WHERE id = %s", [otp_secrets.hash_code(token), pk]
            )


def secrets_in_clear(apps, schema_editor):
    # Keys can be decrypted again; hashed backup codes cannot be read back, so they are removed (users make new ones).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, key FROM otp_totp_totpdevice WHERE key LIKE %s", [otp_secrets.ENCRYPTED_PREFIX + "%"]
        )
        for pk, key in cursor.fetchall():
            cursor.execute("UPDATE otp_totp_totpdevice SET key = %s WHERE id = %s", [otp_secrets.decrypt_key(key), pk])
        cursor.execute("DELETE FROM otp_static_statictoken")


class Migration(migrations.Migration):
    dependencies = [
        ("kast", "0008_researcher_role"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslogentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed"),
                    ("create", "Created"),
                    ("update", "Changed"),
                    ("print", "Printed"),
                    ("export", "Exported"),
                    ("denied", "Denied"),
                    ("reveal", "Showed identity"),
                    ("account", "Changed a staff account"),
                ],
                max_length=10,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="loginevent",
            name="event",
            field=models.CharField(
                choices=[
                    ("login", "Logged in"),
                    ("password_only", "Password accepted, second factor to be set up"),
                    ("failed", "Login failed"),
                    ("code_failed", "Wrong code"),
                    ("locked_out", "Locked out"),
                    ("second_factor_set_up", "Second factor set up"),
                    ("password_changed", "Password changed"),
                    ("logout", "Logged out"),
                    ("timeout", "Signed out for inactivity or time"),
                    ("sessions_ended", "Sessions ended by an administrator"),
                    ("throttled", "Made to wait: too many failed logins from the address"),
                    ("reset_started", "Password reset started by an administrator"),
                    ("reset_completed", "New password set with a reset link"),
                    ("second_factor_removed", "Authenticator and backup codes removed"),
                    ("role_changed", "Role changed"),
                    ("clinic_changed", "Clinic changed"),
                ],
                max_length=30,
                verbose_name="event",
            ),
        ),
        migrations.RunPython(secrets_at_rest, secrets_in_clear),
    ]
