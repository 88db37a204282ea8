from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_register, name="register"),
    path("emergency-access/", views.emergency_access, name="emergency"),
    path("<uuid:client_id>/", views.client_detail, name="detail"),
    path("<uuid:client_id>/edit/", views.client_edit, name="edit"),
    path("<uuid:client_id>/identity/", views.client_identity_edit, name="identity_edit"),
    path("<uuid:client_id>/identity/show/", views.client_reveal_identity, name="reveal_identity"),
    path("<uuid:client_id>/status/", views.client_transition, name="transition"),
    path("<uuid:client_id>/new-period/", views.client_reopen, name="reopen"),
    path("<uuid:client_id>/assessment/", views.assessment_edit, name="assessment"),
    path("<uuid:client_id>/assessment/autosave/", views.assessment_autosave, name="assessment_autosave"),
    path("<uuid:client_id>/assessment/sign/", views.assessment_sign, name="assessment_sign"),
    path("<uuid:client_id>/assessment/addendum/", views.assessment_addendum, name="assessment_addendum"),
    path("<uuid:client_id>/interview/", views.interview, name="interview"),
    path("<uuid:client_id>/interview/<slug:section>/", views.interview_section, name="interview_section"),
    path(
        "<uuid:client_id>/interview/<slug:section>/autosave/",
        views.interview_section_autosave,
        name="interview_section_autosave",
    ),
    path(
        "<uuid:client_id>/interview/<slug:section>/sign/", views.interview_section_sign, name="interview_section_sign"
    ),
    path(
        "<uuid:client_id>/interview/<slug:section>/addendum/",
        views.interview_section_addendum,
        name="interview_section_addendum",
    ),
    path("<uuid:client_id>/family/", views.family_map, name="family"),
    path("<uuid:client_id>/family/<int:member_id>/", views.family_member_edit, name="family_member"),
    path("<uuid:client_id>/family/<int:member_id>/delete/", views.family_member_delete, name="family_member_delete"),
    path("<uuid:client_id>/family/<int:member_id>/in-error/", views.family_member_error, name="family_member_error"),
    path("<uuid:client_id>/family/relationships/", views.relationship_add, name="relationship_add"),
    path(
        "<uuid:client_id>/family/relationships/<int:relationship_id>/delete/",
        views.relationship_delete,
        name="relationship_delete",
    ),
    path(
        "<uuid:client_id>/family/relationships/<int:relationship_id>/in-error/",
        views.relationship_error,
        name="relationship_error",
    ),
    path("<uuid:client_id>/goals/new/", views.goal_add, name="goal_add"),
    path("<uuid:client_id>/goals/<int:goal_id>/", views.goal_edit, name="goal_edit"),
    path("<uuid:client_id>/goals/<int:goal_id>/delete/", views.goal_delete, name="goal_delete"),
    path("<uuid:client_id>/goals/sessions/<uuid:session_id>/", views.goal_review, name="goal_review"),
    path("<uuid:client_id>/intake.pdf", views.intake_pdf, name="intake_pdf"),
]
