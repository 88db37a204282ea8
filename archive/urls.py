from django.urls import path

from archive import views

app_name = "archive"
urlpatterns = [
    path("records/<uuid:record_id>/history/", views.record_history, name="history"),
    path("records/<uuid:record_id>/right-of-access.pdf", views.right_of_access, name="right_of_access"),
]
