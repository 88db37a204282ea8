from django.urls import path

from start import views

# No app_name: the start page keeps the name every layout and redirect knows it by (LOGIN_REDIRECT_URL = "home").
urlpatterns = [
    path("", views.home, name="home"),
]
