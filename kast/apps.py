from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KastConfig(AppConfig):
    name = "kast"
    verbose_name = _("KAST: clinics, staff and access log")

    def ready(self) -> None:
        # Axes' receivers connect on this import; ours come after them, so a failed login's row can say whether
        # it locked the account (receivers run in the order they were connected).
        import axes.signals  # noqa: F401
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from kast import checks, receivers  # noqa: F401  (checks registers the URL-rule check)

        user_logged_in.connect(receivers.logged_in, dispatch_uid="kast.logged_in")
        user_login_failed.connect(receivers.login_failed, dispatch_uid="kast.login_failed")
