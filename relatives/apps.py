from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelativesConfig(AppConfig):
    name = "relatives"
    verbose_name = _("Relatives and partners")
