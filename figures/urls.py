from django.urls import path

from figures import views

app_name = "figures"

# Mounted at the site's root (kast.urls): the paths are the ones the pages always had.
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:table>.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/year/<int:year>.pdf", views.dashboard_year_pdf, name="dashboard_year_pdf"),
    path("questionnaires/reports/", views.reports, name="reports"),
    path("questionnaires/research-file/", views.research_export, name="research_export"),
]
