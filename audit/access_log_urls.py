from django.urls import path

from audit import views

# The access log's page (mounted at /access-log/ by kast.urls) keeps its name without a namespace: the layout, the
# role table and the review queue's links know it as `access_log`. The queue and reviews are audit.urls.
urlpatterns = [
    path("", views.access_log, name="access_log"),
]
