from django.urls import path

from advice import views

app_name = "advice"

urlpatterns = [
    path("", views.advice_list, name="list"),
    path("new/", views.advice_new, name="new"),
    path("<int:contact_id>/register/", views.advice_convert, name="convert"),
]
