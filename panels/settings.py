"""Panels settings: every value comes from the environment (see `.env.example` and the README).

With no environment at all the app runs embedded: SQLite in the project folder, the in-memory channel
layer and Celery in eager mode. `DATABASE_URL` switches to PostgreSQL; `REDIS_URL` switches the channel
layer, the cache and Celery to Redis, so many Daphne processes and Celery workers can share the work.
"""

import json
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from panels.environment import env_bool, env_int, env_list, env_str
from panels.logs import FORMAT

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)

# A fixed key is acceptable only on a developer's machine; production must bring its own.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-5c1f0e9b7a"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first, so `manage.py runserver` is Daphne's ASGI server
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "panels",
    "accounts",
    "catalog",
    "chat",
    "billing",
    "standins",  # development and test stand-ins for the providers and Stripe
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "panels.unstorable_input.RejectNulCharactersMiddleware",  # before sessions: a cookie is read there
    "panels.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "panels.urls"
ASGI_APPLICATION = "panels.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 20)
# Threads that run database calls for async code (chat/database.py): by default one per pooled connection
# on PostgreSQL; SQLite serialises its writers, so there a few threads are enough.
DATABASE_THREADS = env_int("DATABASE_THREADS", DATABASE_POOL_SIZE if DATABASE_URL.startswith("postgres") else 4)
if DATABASE_URL:
    # Under ASGI each request and socket call may run on another thread, so connections are not kept per
    # thread (conn_max_age=0); PostgreSQL's come from a pool instead of being opened for every call.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": DATABASE_POOL_SIZE}}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # A file (not memory) test database, so a Daphne process started by a test can share it.
            "TEST": {"NAME": BASE_DIR / "test-db.sqlite3"},
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery, reply logs ---------------------------------------------
REDIS_URL = env_str("REDIS_URL")
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", 20)

# redis-py 8 gives every socket a 5 s read timeout where 7.x had none, so a read that blocks on Redis on
# purpose (a subscription, XREAD BLOCK, Celery's BRPOP) must block for less than its socket's timeout. Every
# client here sets its timeouts explicitly: blocking reads wait at most REDIS_BLOCK_SECONDS, sockets give up
# after REDIS_SOCKET_TIMEOUT; idle connections are checked (PING) before reuse and kept alive by TCP.
REDIS_BLOCK_SECONDS = 10
REDIS_SOCKET_TIMEOUT = 15
REDIS_CONNECTION_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 30,
}

# The channel layer carries only events for a person's open tabs (wallet, titles); reply text never goes
# through it (see chat/reply_log/). The pub/sub layer keeps its group memberships in the process and
# subscribes again after Redis restarts, where the list-based layer would lose them with Redis's memory.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": REDIS_POOL_SIZE,
                        "client_name": "panels-layer",
                        **REDIS_CONNECTION_OPTIONS,
                    },
                ],
                "prefix": "panels",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "panels",
            # A blocking pool waits for a free connection instead of failing when all are in use.
            "OPTIONS": {
                "pool_class": "redis.BlockingConnectionPool",
                "max_connections": REDIS_POOL_SIZE,
                "timeout": REDIS_SOCKET_TIMEOUT,
                "client_name": "panels-cache",
                **REDIS_CONNECTION_OPTIONS,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # embedded mode: tasks run in the calling process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# kombu blocks in BRPOP for 1 s at a time; its sockets and the result backend's get explicit timeouts too.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_connections": REDIS_POOL_SIZE,
    "client_name": "panels-celery",
    **REDIS_CONNECTION_OPTIONS,
}
CELERY_BROKER_POOL_LIMIT = 4  # publishers per process: tasks are rare (a title per conversation), so a few suffice
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECTION_OPTIONS["socket_connect_timeout"]
CELERY_REDIS_SOCKET_KEEPALIVE = True
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = REDIS_CONNECTION_OPTIONS["health_check_interval"]
CELERY_REDIS_MAX_CONNECTIONS = REDIS_POOL_SIZE
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "finish-abandoned-replies": {"task": "chat.finish_abandoned_replies", "schedule": 30.0},
    "release-expired-holds": {"task": "billing.release_expired_holds", "schedule": 60.0},
    "resume-stuck-attachments": {"task": "chat.resume_stuck_attachments", "schedule": 60.0},
}

# --- Accounts (django-allauth, email + password, no usernames) ----------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
# Accounts one client may create per hour, from its address (an IPv6 one counts as its /64) and from its
# network (/24 for IPv4, /64 for IPv6), counted in the cache (accounts/rate_limits.py); 0 lifts a limit.
# allauth's own "signup" limit counts attempts a minute.
SIGNUPS_PER_HOUR_PER_ADDRESS = env_int("SIGNUPS_PER_HOUR_PER_ADDRESS", 5)
SIGNUPS_PER_HOUR_PER_NETWORK = env_int("SIGNUPS_PER_HOUR_PER_NETWORK", 20)
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Proxies in front that append the client's address to X-Forwarded-For (else every client is the proxy).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0)
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
LOGIN_REDIRECT_URL = "/chat/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email: the console unless an SMTP host is configured ---------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Panels <noreply@localhost>")

# --- Model providers (keys never leave the server) ----------------------------------------------
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta/openai")
MISTRAL_API_KEY = env_str("MISTRAL_API_KEY")
MISTRAL_BASE_URL = env_str("MISTRAL_BASE_URL", "https://api.mistral.ai/v1")

# --- Chat limits ----------------------------------------------------------------------------------
CHAT_MAX_OUTPUT_TOKENS = 4096  # per reply; holds reserve this much output, so it bounds a turn's cost
CHAT_MAX_TURNS_IN_FLIGHT = 3  # turns of one person streaming at once
CHAT_FRAMES_PER_SECOND = 10  # client frames per socket, with bursts of twice that
CHAT_DELTA_INTERVAL_SECONDS = 0.03  # coalesce tokens into at most ~33 delta frames a second per reply
# Replies one server process streams at once; a turn that would pass it is refused as `busy`, nothing held.
CHAT_MAX_STREAMS_PER_PROCESS = env_int("CHAT_MAX_STREAMS_PER_PROCESS", 1000)
# /api/route is public and costs CPU per character of prompt: per client address a minute (a network, 4 times).
ROUTE_REQUESTS_PER_MINUTE = env_int("ROUTE_REQUESTS_PER_MINUTE", 60)
# The API (/v1, chat/api/): requests a key may send a minute, and calls it may have answering at once.
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 3000)
API_MAX_CALLS_IN_FLIGHT = env_int("API_MAX_CALLS_IN_FLIGHT", 200)
CHAT_BUSY_RETRY_SECONDS = 5  # what a `busy` refusal tells the client to wait before trying again

# --- Stripe -------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")

# --- Static files (whitenoise, served by Daphne itself) -----------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The browser libraries come from npm (package.json, `npm ci`), served as ES modules under static/vendor/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/marked", BASE_DIR / "node_modules/marked/lib"),
    ("vendor/dompurify", BASE_DIR / "node_modules/dompurify/dist"),
    ("vendor/highlight", BASE_DIR / "node_modules/@highlightjs/cdn-assets/es"),
]
# Hashed, compressed files need `collectstatic`; the embedded mode serves straight from `static/`.
STATIC_COLLECTED = env_bool("STATIC_COLLECTED", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_COLLECTED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

# --- Attachments ----------------------------------------------------------------------------------
# Files people attach to prompts, kept through Django's storage API: local files by default, any
# django-storages backend (S3-compatible, ...) by naming it and its options (JSON). Never served as static
# files: only chat/attachments/views.py serves one, to its owner.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES["attachments"] = {
    "BACKEND": env_str("ATTACHMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
    "OPTIONS": json.loads(env_str("ATTACHMENT_STORAGE_OPTIONS", "{}")),
}
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)  # one file
ATTACHMENTS_PER_PROMPT = env_int("ATTACHMENTS_PER_PROMPT", 5)
ATTACHMENTS_MAX_PROMPT_BYTES = env_int("ATTACHMENTS_MAX_PROMPT_BYTES", 25 * 1024 * 1024)  # all files of a prompt
ATTACHMENT_MAX_PDF_PAGES = env_int("ATTACHMENT_MAX_PDF_PAGES", 100)
ATTACHMENT_MAX_TEXT_CHARS = env_int("ATTACHMENT_MAX_TEXT_CHARS", 200_000)  # the text read from one file
# A PDF of more pages is read by a Celery worker while the composer shows its progress.
ATTACHMENT_BACKGROUND_PAGES = env_int("ATTACHMENT_BACKGROUND_PAGES", 10)

# --- Security -----------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container healthcheck speaks plain HTTP
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------------
# One handler, on the root logger, prints every line once in one format: Django's own "django" logger gets
# no handler of its own (its default console handler printed each request warning a second time, unformatted).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": FORMAT}},
    "filters": {"no_http2_notice": {"()": "panels.logs.DropHttp2Notice"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "daphne.server": {"filters": ["no_http2_notice"]},
    },
}
