"""Chat URLs: the chat pages under /chat/, the JSON endpoints under /api/ (the websocket is in panels/asgi.py)."""

from django.urls import path

from chat import pages, preset_api, share_api, views, winner_api
from chat.attachments import views as attachment_views

app_name = "chat"

urlpatterns = [
    path("", pages.chat_page, name="chat"),
    path("<int:conversation_id>/", pages.chat_page, name="conversation"),
]

api_urlpatterns = [
    path("models", views.model_catalog, name="model_catalog"),
    path("conversations/", views.conversation_list, name="conversation_list"),
    path("conversations/folders", views.conversation_folders, name="conversation_folders"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:conversation_id>/export", views.conversation_export, name="conversation_export"),
    path("conversations/<int:conversation_id>/branch", views.conversation_branch, name="conversation_branch"),
    path("messages/<int:message_id>/shown", views.message_shown, name="message_shown"),
    path("conversations/<int:conversation_id>/shares", share_api.conversation_shares, name="conversation_shares"),
    path("shares/<slug:token>", share_api.share_detail, name="share_detail"),
    path("turns/<int:turn_id>/winner", winner_api.turn_winner, name="turn_winner"),
    path("attachments/", attachment_views.attachment_upload, name="attachment_upload"),
    path("attachments/<str:attachment_id>/", attachment_views.attachment_detail, name="attachment_detail"),
    path("attachments/<str:attachment_id>/content", attachment_views.attachment_content, name="attachment_content"),
    path("presets/", preset_api.preset_list, name="preset_list"),
    path("presets/<str:preset_id>/", preset_api.preset_detail, name="preset_detail"),
]
