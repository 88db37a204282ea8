from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("<int:entry_id>/", views.review, name="review"),
]
