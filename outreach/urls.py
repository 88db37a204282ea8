from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_new, name="new"),
    path("<int:activity_id>/", views.activity_edit, name="edit"),
]
