"""Settings for LinkedIn CRM — one file, read from the environment (see .env.example).

The helpers below are strict: a malformed value stops the process at start with a message
naming the variable, instead of surfacing later as odd behaviour.
"""

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development only: production refuses to start with it (below).
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105

# Off unless asked for: a production process started with a forgotten DEBUG must refuse to run
# on the public development key (from which development also derives the token encryption
# key), not quietly use it. `make run`, `make demo` (and so the Procfile they start) and the
# tests turn it on.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
if not SECRET_KEY.strip():
    # Django would accept the empty key until the first signature, and development would
    # derive its token encryption key from it.
    raise ImproperlyConfigured(
        "SECRET_KEY is set but empty: unset it for the development key (DEBUG=1 only), or set "
        "a long random string."
    )
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off. DEBUG is off unless the environment says "
        "DEBUG=1; for development, set it (make run and make demo do)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_filters",
    "django_htmx",
    "csp",
    "django_q",
    "import_export",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "linkedin_crm",
    "contacts",
    "messaging",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "linkedin_crm.middleware.NumberTooLargeMiddleware",
    "linkedin_crm.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "linkedin_crm.urls"
WSGI_APPLICATION = "linkedin_crm.wsgi.application"

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

# SQLite by default so `make run` needs nothing installed; DATABASE_URL (sqlite:////abs/path or
# postgres://user@host:5432/name) overrides it. PostgreSQL is the production choice.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        # Production keeps a connection per process for a minute: opening one to PostgreSQL
        # costs a few milliseconds on every request otherwise (issue #16 measured the contact
        # page at twice the throughput). The health check replaces a connection the server
        # dropped (a restart, a failover) before a request uses it, instead of failing it.
        # Development keeps Django's default of closing it after each request.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE takes the write lock when a transaction starts, so the send queue's
    # count-then-claim cannot interleave between workers, and writers wait (timeout)
    # instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # allauth's username-or-e-mail sign-in, loading permissions with the user (one query).
    "linkedin_crm.auth.TeamAuthenticationBackend",
    # Kept so that sessions signed in before it still resolve.
    "django.contrib.auth.backends.ModelBackend",
]

# django-allauth: staff sign in with username or e-mail and a password. There is no public
# signup: staff are created in the admin or by `make run`'s first-run step.
ACCOUNT_ADAPTER = "linkedin_crm.auth.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
SOCIALACCOUNT_STORE_TOKENS = False
# allauth limits failed sign-ins per username and per client address (its defaults: 5 per
# username in 5 minutes, 10 a minute per address). Behind a proxy every request comes from the
# proxy's address, so one person's failures would lock everyone out: with N trusted proxies in
# front that each append to X-Forwarded-For, the client is the N-th address from its end.
# 0 (no proxy) ignores the header, which clients could otherwise fill with any address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
# WhiteNoise warns on every start when the collectstatic target is missing, even in
# development where it serves from the app folders instead.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = env_str("EMAIL_BACKEND")
if not EMAIL_BACKEND:
    if not DEBUG:
        # The console backend writes password-reset links into the log, where whoever reads
        # the log could take over any account; production has to choose a backend.
        raise ImproperlyConfigured(
            "EMAIL_BACKEND must be set when DEBUG is off: the default prints e-mails, "
            "password-reset links included, to the console log. Set "
            "django.core.mail.backends.smtp.EmailBackend (sends through localhost:25), or "
            f"{CONSOLE_EMAIL_BACKEND} explicitly to keep printing them."
        )
    EMAIL_BACKEND = CONSOLE_EMAIL_BACKEND
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "linkedin-crm@localhost")

if not DEBUG:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    # The TLS proxy in front (README, "Going to production") sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A request that reached the app over plain HTTP goes to HTTPS, unless HTTP is allowed.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
    # Browsers that saw the header refuse plain HTTP to this host for that long, even once its
    # certificate breaks: the operator's decision, so 0 (none) unless set.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)

# django-import-export in the admin: exporting needs contacts.export_contact (personal data
# leaves the system), importing needs contacts.add_contact.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"

# Contacts
CONTACTS_PAGE_SIZES = [25, 50, 100, 200]
# Uploads over this size are refused before parsing (a 30,000-row export is about 3 MB).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20, minimum=1) * 1024 * 1024
# Files reach Django's handlers (memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then a temporary
# file) only from staff and within the page's limit: the body is read before any view runs.
FILE_UPLOAD_HANDLERS = [
    "linkedin_crm.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Imports with more rows than this run in the background worker with a progress bar.
IMPORT_ASYNC_ROWS = env_int("IMPORT_ASYNC_ROWS", 2000, minimum=0)
# A confirmed import that shows no progress for this long has lost its worker (killed, out of
# memory, timed out): it is marked failed and what it imported can be undone. A live import
# commits a chunk of 1,000 rows every second or so; the minimum leaves room for a slow database.
IMPORT_STALL_SECONDS = env_int("IMPORT_STALL_SECONDS", 300, minimum=60)
# Uploads wait in the database for the worker's preview and the confirmation; previews nobody
# confirmed or cancelled, their uploads and finished exports go after this many hours.
IMPORT_UPLOAD_KEEP_HOURS = env_int("IMPORT_UPLOAD_KEEP_HOURS", 24, minimum=1)
# An export's CSV is built in the database; one larger than this is refused (about 3,000 bytes
# a contact would be unusual: 100,000 contacts make some 25 MB).
EXPORT_MAX_BYTES = env_int("EXPORT_MAX_MB", 200, minimum=1) * 1024 * 1024
# A bulk action on "all matching" contacts runs in the worker, with a progress page, when the
# filter matches more than this many (issue #16: a stage change over 100,000 took seconds, with
# webhook subscribers several more, and 300,000 could pass gunicorn's 30 s). Selected rows, at
# most a page, always change in the request.
BULK_IN_REQUEST_MAX = env_int("BULK_IN_REQUEST_MAX", 5000, minimum=1)

# Webhook targets must be public addresses: a URL that resolves to a private, loopback,
# link-local, multicast or reserved address could reach services behind the firewall (the
# cloud's metadata service, the database). These networks (CIDR, comma-separated) are allowed
# anyway; development allows the loopback networks so that a local receiver works.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_list(
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS", "127.0.0.0/8,::1/128" if DEBUG else ""
)

# Webhook events (and their deliveries' history, shown to Admins) are deleted after this many
# days, once nothing is left to retry.
WEBHOOK_EVENTS_KEEP_DAYS = env_int("WEBHOOK_EVENTS_KEEP_DAYS", 30, minimum=1)

# The dashboard's team-wide figures (contacts, messages per day, reply rates) are computed
# once and shared by every viewer for this many seconds; 0 computes them for every request.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 30, minimum=0)

# The queue's broker is the database unless REDIS_URL is set (docs/queue.md).
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER: dict[str, Any] = {
    "name": "linkedin_crm",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# allauth counts sign-in attempts in the default cache, which must be one every web process
# shares: with a cache per process each gunicorn worker counted alone, and the limits grew with
# the number of workers. The database by default (its table comes with `migrate`, see
# linkedin_crm/migrations), Redis when there is one.
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            # Past this many entries the cache drops some at random: a flood of invented
            # usernames must not push a real one's failed attempts out (the default is 300).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# django-q2's cluster saves its heartbeat to the cache twice a second; in the database that
# would be a write every half second for nothing (the dashboard reads the Task table instead).
CACHES["django_q"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
Q_CLUSTER["cache"] = "django_q"

# --- LinkedIn (docs/linkedin.md, docs/sandbox.md) ----------------------------------------------
# LINKEDIN_SANDBOX=1 points sign-in and the API client at the local sandbox
# (`manage.py linkedin_sandbox`), so the product works end to end with no internet.
LINKEDIN_SANDBOX = env_bool("LINKEDIN_SANDBOX", False)
LINKEDIN_SANDBOX_URL = env_str("LINKEDIN_SANDBOX_URL", "http://127.0.0.1:8765").rstrip("/")
# Where the sandbox keeps the tokens it issued and the messages it accepted, so that they
# survive a restart as they would on LinkedIn; empty = in memory only.
LINKEDIN_SANDBOX_STATE = env_str("LINKEDIN_SANDBOX_STATE", str(DATA_DIR / "linkedin-sandbox.jsonl"))
if LINKEDIN_SANDBOX and not DEBUG:
    raise ImproperlyConfigured("LINKEDIN_SANDBOX is for development and tests; turn DEBUG on.")
LINKEDIN_CLIENT_ID = env_str("LINKEDIN_CLIENT_ID") or (
    "sandbox-client-id" if LINKEDIN_SANDBOX else ""
)
LINKEDIN_CLIENT_SECRET = env_str("LINKEDIN_CLIENT_SECRET") or (
    "sandbox-client-secret" if LINKEDIN_SANDBOX else ""
)
LINKEDIN_OAUTH_BASE_URL = env_str(
    "LINKEDIN_OAUTH_BASE_URL",
    f"{LINKEDIN_SANDBOX_URL}/oauth" if LINKEDIN_SANDBOX else "https://www.linkedin.com/oauth",
).rstrip("/")
LINKEDIN_API_BASE_URL = env_str(
    "LINKEDIN_API_BASE_URL",
    LINKEDIN_SANDBOX_URL if LINKEDIN_SANDBOX else "https://api.linkedin.com",
).rstrip("/")
# The Messages API scope of an approved partner app (the sandbox calls it w_member_social);
# empty for the ordinary "Sign In with LinkedIn using OpenID Connect" product.
LINKEDIN_MESSAGING_SCOPE = env_str(
    "LINKEDIN_MESSAGING_SCOPE", "w_member_social" if LINKEDIN_SANDBOX else ""
)
LINKEDIN_CONNECT_TIMEOUT = env_int("LINKEDIN_CONNECT_TIMEOUT", 5, minimum=1)
LINKEDIN_READ_TIMEOUT = env_int("LINKEDIN_READ_TIMEOUT", 20, minimum=1)
LINKEDIN_DAILY_MESSAGE_LIMIT = env_int("LINKEDIN_DAILY_MESSAGE_LIMIT", 100, minimum=1)
# Flag an account "needs reconnect" this many days before its token expires (no refresh token).
LINKEDIN_RECONNECT_WARNING_DAYS = 7

# The send queue (docs/queue.md).
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 5, minimum=1)
MESSAGE_RETRY_BASE_SECONDS = 60
MESSAGE_RETRY_MAX_SECONDS = 3600
# A message `sending` for longer than this is turned `uncertain` by the reaper. It must exceed
# the worker's task timeout: a send still running when the reaper calls it uncertain could be
# sent again by a person, and LinkedIn's answer to the first would be lost.
MESSAGE_SENDING_TIMEOUT_SECONDS = env_int(
    "MESSAGE_SENDING_TIMEOUT_SECONDS", 300, minimum=Q_CLUSTER["timeout"] + 30
)
# The dispatcher records what LinkedIn answered in batches, at least this often: a worker that
# dies loses at most this many seconds of answers (those messages become `uncertain`).
MESSAGE_OUTCOME_FLUSH_SECONDS = env_int("MESSAGE_OUTCOME_FLUSH_SECONDS", 5, minimum=0)
# The worker's schedule gives every account with due messages a task of its own (docs/queue.md):
# a turn claims at most this many messages, and sends no more after this many seconds; an
# account with more to send now is enqueued again, behind the other accounts.
DISPATCH_BATCH_SIZE = env_int("DISPATCH_BATCH_SIZE", 20, minimum=1)
DISPATCH_TASK_SECONDS = env_int("DISPATCH_TASK_SECONDS", 30, minimum=1)
# A turn ends within django-q2's task timeout: the last send it starts may take a request, a
# token refresh and the request again, each up to the connect and read timeouts.
_LONGEST_TURN = DISPATCH_TASK_SECONDS + 3 * (LINKEDIN_CONNECT_TIMEOUT + LINKEDIN_READ_TIMEOUT)
if Q_CLUSTER["timeout"] - _LONGEST_TURN < 10:
    raise ImproperlyConfigured(
        f"DISPATCH_TASK_SECONDS ({DISPATCH_TASK_SECONDS}) plus three LinkedIn requests of "
        "LINKEDIN_CONNECT_TIMEOUT + LINKEDIN_READ_TIMEOUT seconds must leave 10 seconds of the "
        f"worker's {Q_CLUSTER['timeout']}-second task timeout: lower one of them."
    )

# Campaigns (docs/campaigns.md): skip contacts messaged by anyone within this many days.
CAMPAIGN_COOL_OFF_DAYS = env_int("CAMPAIGN_COOL_OFF_DAYS", 30, minimum=0)
# More phrases that mark a reply as an opt-out (comma-separated; English, German, French and
# Spanish ones are built in).
OPT_OUT_PHRASES = env_list("OPT_OUT_PHRASES")

SOCIALACCOUNT_ADAPTER = "messaging.adapters.LinkedInConnectAdapter"

# --- The REST API (docs/api.md) -------------------------------------------------------------
# Requests per token, reads (GET, HEAD, OPTIONS) and writes counted apart: "N/second", "N/minute",
# "N/hour" or "N/day". Past it the API answers 429 with Retry-After.
API_THROTTLE_READ = env_str("API_THROTTLE_READ", "600/minute")
API_THROTTLE_WRITE = env_str("API_THROTTLE_WRITE", "120/minute")
for _name, _rate in (
    ("API_THROTTLE_READ", API_THROTTLE_READ),
    ("API_THROTTLE_WRITE", API_THROTTLE_WRITE),
):
    if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", _rate.strip()):
        raise ImproperlyConfigured(
            f"{_name} must look like 600/minute (per second, minute, hour or day), got {_rate!r}"
        )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "linkedin_crm.api.BearerTokenAuthentication",
        # The interactive docs in a signed-in browser; DRF checks CSRF on its writes.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["linkedin_crm.api.IsActiveStaff", "linkedin_crm.api.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["linkedin_crm.api.TokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "linkedin_crm.api.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LinkedIn CRM API",
    "DESCRIPTION": "Contacts, imports, messages, accounts, campaigns and statistics. See "
    "docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema, like everything else, is for the team: a token or a staff session.
    "SERVE_PERMISSIONS": ["linkedin_crm.api.IsActiveStaff"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from our own static files (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "linkedin_crm.api.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "contacts.models.Stage",
        "MessageStatusEnum": "messaging.models.Message.Status",
        "AccountStatusEnum": "messaging.models.LinkedInAccount.Status",
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "ImportStatusEnum": "contacts.models.ImportBatch.Status",
    },
}


def linkedin_provider_settings(*, client_id: str, secret: str, server_url: str, scopes: list[str]):
    """django-allauth's generic OpenID Connect provider with provider_id "linkedin" (the
    linkedin_oauth2 provider is deprecated); the issuer's discovery document gives every
    endpoint."""
    return {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "linkedin",
                    "name": "LinkedIn",
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {
                        "server_url": server_url,
                        "scope": scopes,
                        # LinkedIn wants the client secret in the POST body.
                        "token_auth_method": "client_secret_post",
                        # PKCE (S256): a code intercepted on its way back is useless without
                        # the verifier this session keeps. allauth's generic OpenID Connect
                        # provider sends no nonce; the code flow's ID token comes straight
                        # from the token endpoint, and PKCE binds the code to the session.
                        "oauth_pkce_enabled": True,
                    },
                }
            ]
        }
    }


LINKEDIN_SCOPES = ["openid", "profile", "email"] + (
    [LINKEDIN_MESSAGING_SCOPE] if LINKEDIN_MESSAGING_SCOPE else []
)
# Registered only when the app's credentials are known (or in sandbox mode).
SOCIALACCOUNT_PROVIDERS = (
    linkedin_provider_settings(
        client_id=LINKEDIN_CLIENT_ID,
        secret=LINKEDIN_CLIENT_SECRET,
        server_url=LINKEDIN_OAUTH_BASE_URL,
        scopes=LINKEDIN_SCOPES,
    )
    if LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET
    else {}
)

# Tokens are encrypted at rest (messaging.crypto): comma-separated Fernet keys, newest first;
# older keys still decrypt until `manage.py rotate_encryption_keys` re-encrypts everything.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off; generate a key with: python "
            '-c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    # Development only: a key derived from SECRET_KEY, so `make run` needs no setup.
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"field-encryption:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes)."
        ) from None


def content_security_policy(*, linkedin_oauth_base_url: str) -> dict:
    """django-csp's policy: scripts and styles only from our static files, no inline <script>,
    style="…" or on…= handlers (tests/test_csp.py checks every page). LinkedIn's sign-in origin
    is a form-action too: "Connect" posts to us and is redirected there, and browsers hold that
    redirect to form-action."""
    oauth = urlsplit(linkedin_oauth_base_url)
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            "img-src": [SELF, "data:"],
            "form-action": [SELF, f"{oauth.scheme}://{oauth.netloc}"],
            "frame-ancestors": [NONE],
            "base-uri": [SELF],
            "object-src": [NONE],
        }
    }


CONTENT_SECURITY_POLICY = content_security_policy(linkedin_oauth_base_url=LINKEDIN_OAUTH_BASE_URL)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
