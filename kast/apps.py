from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KastConfig(AppConfig):
    name = "kast"
    verbose_name = _("KAST: clinics, staff and access log")

    def ready(self) -> None:
        from kast import checks  # noqa: F401  (registers the URL-rule check)
