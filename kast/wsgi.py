import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kast.settings.production")

application = get_wsgi_application()

# Production stops a worker whose DATABASE_URL is a superuser or the owner of the tables before it serves.
from kast.db_roles import refuse_privileged_runtime_at_start  # noqa: E402  (needs the settings loaded above)

refuse_privileged_runtime_at_start()
