from django.urls import path

from sessions import views

app_name = "sessions"

urlpatterns = [
    path("clients/<uuid:client_id>/sessions/", views.timeline, name="timeline"),
    path("clients/<uuid:client_id>/sessions/new/", views.session_new, name="new"),
    path("clients/<uuid:client_id>/end/", views.end_treatment, name="end_treatment"),
    path("sessions/log/", views.quick_log, name="quick_log"),
    path("sessions/<uuid:session_id>/", views.session_detail, name="detail"),
    path("sessions/<uuid:session_id>/autosave/", views.note_autosave, name="autosave"),
    path("sessions/<uuid:session_id>/addendum/", views.addendum_add, name="addendum"),
    path("sessions/<uuid:session_id>/addendum/autosave/", views.addendum_autosave, name="addendum_autosave"),
    path("sessions/<uuid:session_id>/payment/", views.payment, name="payment"),
    path("sessions/<uuid:session_id>/wrongly-recorded/", views.session_void, name="void"),
    path("sessions/<uuid:session_id>/book-next/", views.book_next, name="book_next"),
    path("bookings/", views.bookings, name="bookings"),
    path("calendar/", views.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
