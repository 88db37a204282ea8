from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from two_factor import views as two_factor_views

from audit import views as audit_views
from kast import views

# django-two-factor-auth's views reverse their own names ("two_factor:setup_complete", ...). Only the pages we
# use are routed: no profile page and no "disable" (two factors are not optional), no phone methods.
two_factor_urls = (
    [
        path("setup/", views.SetupView.as_view(), name="setup"),
        path("setup/qr/", views.QRCodeView.as_view(), name="qr"),
        path("setup/done/", two_factor_views.SetupCompleteView.as_view(), name="setup_complete"),
        path("backup-codes/", two_factor_views.BackupTokensView.as_view(), name="backup_tokens"),
    ],
    "two_factor",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("two-factor/", include(two_factor_urls)),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access-log/", audit_views.access_log, name="access_log"),
    path("log-review/", include("audit.urls")),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:table>.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/year/<int:year>.pdf", views.dashboard_year_pdf, name="dashboard_year_pdf"),
    path("clients/", include("clients.urls")),
    path("", include("sessions.urls")),
    path("", include("assessments.urls")),
    path("", include("relatives.urls")),
    path("", include("archive.urls")),
    path("admin/", admin.site.urls),
]
