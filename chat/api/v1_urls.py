"""The URL configuration of the API handler (chat/api/handler.py): the API's URLs under /v1/, and nothing else."""

from django.urls import include, path

urlpatterns = [path("v1/", include("chat.api.urls"))]
