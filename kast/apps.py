from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KastConfig(AppConfig):
    name = "kast"
    verbose_name = _("KAST: clinics, staff and access log")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kast import checks  # noqa: F401  (registers the URL-rule check)
        from kast.middleware import mark_seen

        # The idle clock starts at login, so the first request after it need not write the session.
        user_logged_in.connect(lambda sender, request, user, **kwargs: mark_seen(request.session), weak=False)
