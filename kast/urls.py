from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kast import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access-log/", views.access_log, name="access_log"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:table>.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/year/<int:year>.pdf", views.dashboard_year_pdf, name="dashboard_year_pdf"),
    path("clients/", include("clients.urls")),
    path("", include("sessions.urls")),
    path("", include("assessments.urls")),
    path("admin/", admin.site.urls),
]
