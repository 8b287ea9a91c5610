"""The API's URLs, under /v1/ (OpenAI's paths, so an SDK's `base_url` can point at Panels)."""

from django.urls import path, re_path

from chat.api import views

app_name = "api"

urlpatterns = [
    path("chat/completions", views.chat_completions, name="chat_completions"),
    path("models", views.models, name="models"),
    path("models/<path:model_id>", views.models, name="model"),
    re_path(r"^.*$", views.unknown_path),  # any other /v1 path: a 404 a program can read, not an HTML page
]
