"""URL wiring: each app owns its own URLs; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path

from billing.urls import api_urlpatterns as billing_api
from billing.urls import urlpatterns as billing_urls
from chat import billing_pages, route_api, share_page
from chat.urls import api_urlpatterns as chat_api
from panels import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("chat/", include("chat.urls")),
    path("s/<slug:token>/", share_page.shared_page, name="shared_page"),  # a shared link: public, read-only
    path("pricing/", billing_pages.pricing_page, name="pricing"),
    path("billing/", include((billing_urls + billing_pages.billing_urlpatterns, "billing"))),
    path("api/", include((billing_api, "billing_api"))),
    path("api/route", route_api.route, name="api_route"),
    path("api/", include((chat_api, "chat_api"))),
    path("admin/", admin.site.urls),
    path("v1/", include("chat.api.urls")),  # served by chat/api/handler.py under Daphne
]
