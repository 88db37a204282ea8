from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KastConfig(AppConfig):
    name = "kast"
    verbose_name = _("KAST: clinics, staff and access log")

    def ready(self) -> None:
        # Axes' receivers connect on this import; ours come after them, so a failed login's row can say whether
        # it locked the account (receivers run in the order they were connected).
        import axes.signals  # noqa: F401
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from kast import checks, db_roles, otp_secrets, receivers  # noqa: F401  (checks registers the URL-rule check)

        # django-otp's TOTP keys encrypted and backup codes hashed in the database.
        otp_secrets.install()
        user_logged_in.connect(receivers.logged_in, dispatch_uid="kast.logged_in")
        user_login_failed.connect(receivers.login_failed, dispatch_uid="kast.login_failed")
        # After every migrate: the guards that pgtrigger.ignore cannot set aside, and the runtime role's grants.
        post_migrate.connect(db_roles.after_migrate, sender=self, dispatch_uid="kast.db_roles")
        if settings.DATABASE_REFUSE_PRIVILEGED_RUNTIME:
            connection_created.connect(db_roles.refuse_privileged_runtime, dispatch_uid="kast.refuse_privileged")
