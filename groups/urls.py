from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.programme_list, name="list"),
    path("new/", views.programme_new, name="new"),
    path("<int:programme_id>/", views.programme_detail, name="detail"),
    path("<int:programme_id>/members/", views.member_add, name="member_add"),
    path("members/<int:member_id>/leave/", views.member_leave, name="member_leave"),
    path("<int:programme_id>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:meeting_id>/note/", views.note_save, name="note"),
    path("meetings/<int:meeting_id>/sign/", views.note_sign, name="sign"),
    path("meetings/<int:meeting_id>/addendum/", views.addendum, name="addendum"),
]
