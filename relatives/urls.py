from django.urls import path

from relatives import views

app_name = "relatives"
urlpatterns = [
    path("relatives/new/", views.relative_register, name="register"),
    path("clients/<uuid:client_id>/relatives/new/", views.relative_register, name="register_for"),
    path("relatives/<uuid:record_id>/", views.relative_detail, name="detail"),
    path("relatives/<uuid:record_id>/edit/", views.relative_edit, name="edit"),
    path("relatives/<uuid:record_id>/link/", views.link_add, name="link"),
    path("relatives/<uuid:record_id>/reactions/", views.reactions_add, name="reactions"),
    path("relatives/<uuid:record_id>/goals/", views.goal_add, name="goal_add"),
    path("relatives/<uuid:record_id>/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("relatives/links/<int:link_id>/consents/", views.link_consents, name="consents"),
    path("relatives/links/<int:link_id>/remove/", views.link_remove, name="unlink"),
    path("relatives/goals/<int:goal_id>/", views.goal_status, name="goal_status"),
    path("records/<uuid:record_id>/children/", views.child_perspective, name="children"),
    path("records/<uuid:record_id>/children/autosave/", views.child_perspective_autosave, name="children_autosave"),
]
