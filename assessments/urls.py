from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("clients/<uuid:client_id>/questionnaires/", views.client_questionnaires, name="client"),
    path("clients/<uuid:client_id>/questionnaires/start/", views.administration_start, name="start"),
    path("clients/<uuid:client_id>/questionnaires/side-by-side/", views.answers_over_time, name="over_time"),
    path("questionnaires/<int:administration_id>/", views.fill, name="fill"),
    path("questionnaires/<int:administration_id>/autosave/", views.fill_autosave, name="fill_autosave"),
    path("questionnaires/<int:administration_id>/tablet-code/", views.tablet_code, name="tablet_code"),
    path("questionnaires/<int:administration_id>/entered-in-error/", views.mark_in_error, name="mark_in_error"),
    path("tablet/", views.tablet_start, name="tablet"),
    path("tablet/questionnaire/", views.tablet_form, name="tablet_form"),
    path("tablet/thank-you/", views.tablet_done, name="tablet_done"),
]
