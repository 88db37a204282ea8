from typing import NoReturn

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest
from django.urls import URLPattern, URLResolver, include, path
from two_factor import views as two_factor_views

from kast import views

# django-two-factor-auth's views reverse their own names ("two_factor:setup_complete", ...). Only the pages we
# use are routed: no profile page and no "disable" (two factors are not optional), no phone methods.
two_factor_urls = (
    [
        path("setup/", views.SetupView.as_view(), name="setup"),
        path("setup/qr/", views.QRCodeView.as_view(), name="qr"),
        path("setup/done/", two_factor_views.SetupCompleteView.as_view(), name="setup_complete"),
        path("backup-codes/", views.BackupTokensView.as_view(), name="backup_tokens"),
    ],
    "two_factor",
)


def view_on_site_not_found(request: HttpRequest, **kwargs: object) -> NoReturn:
    raise Http404


def admin_urls() -> tuple[list[URLResolver | URLPattern], str, str]:
    """The admin site's URLs, its "view on site" shortcut (admin/r/<content_type_id>/<object_id>/) answering 404.

    No model here has a page of its own on the site, so the shortcut has nothing to show, and Django's
    answers 500 to some inputs (a malformed id of a UUID-keyed model). The name stays, so the admin's own
    rule (kast.access: administrators only) still applies and templates that reverse it still work."""
    patterns, app_name, namespace = admin.site.urls
    not_found = path("r/<str:content_type_id>/<path:object_id>/", view_on_site_not_found, name="view_on_site")
    return [not_found if getattr(p, "name", None) == "view_on_site" else p for p in patterns], app_name, namespace


urlpatterns = [
    path("", include("start.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("signed-in/", views.still_signed_in, name="still_signed_in"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("two-factor/", include(two_factor_urls)),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The one-time link of a reset an administrator started (kast.admin); the token is the key.
    path("password/reset/<uidb64>/<token>/", views.AccountResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", views.AccountResetCompleteView.as_view(), name="password_reset_complete"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access-log/", include("audit.access_log_urls")),
    path("log-review/", include("audit.urls")),
    # dashboard/, dashboard/<table>.csv, dashboard/year/<year>.pdf, questionnaires/reports/ and research-file/.
    path("", include("figures.urls")),
    path("clients/", include("clients.urls")),
    path("outreach/", include("outreach.urls")),
    path("advice/", include("advice.urls")),
    path("groups/", include("groups.urls")),
    path("", include("sessions.urls")),
    path("", include("assessments.urls")),
    path("", include("relatives.urls")),
    path("", include("archive.urls")),
    path("admin/", admin_urls()),
]
