from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TherapySessionsConfig(AppConfig):
    # The label `sessions` belongs to django.contrib.sessions (login sessions).
    name = "sessions"
    label = "therapy_sessions"
    verbose_name = _("Treatment sessions")
