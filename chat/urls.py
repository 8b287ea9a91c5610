"""Chat URLs under /api/: the conversation endpoints (the websocket route is in panels/asgi.py)."""

from django.urls import path

from chat import views

api_urlpatterns = [
    path("conversations/", views.conversation_list, name="conversation_list"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:conversation_id>/export", views.conversation_export, name="conversation_export"),
]
