"""Settings for the crypto accounting back-office.

Every value comes from the environment (a `.env` file at the project root is read if present) with a
safe development default. Setting MONGODB_URI, ETH_RPC_URL, REDIS_URL or EMAIL_HOST switches that part
from the embedded/local default to the real service; see the configuration table in README.md.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))
LOG_DIR = Path(env_str("LOG_DIR", str(DATA_DIR / "log")))

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
# 32 bytes, base64: the development master key that wraps wallet private keys.
DEV_KEY_ENCRYPTION_KEY = "ZGV2LW9ubHkta2V5LWVuY3J5cHRpb24ta2V5LTMyYnk="
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
KEY_ENCRYPTION_KEY = env_str("KEY_ENCRYPTION_KEY", DEV_KEY_ENCRYPTION_KEY)
KEY_ENCRYPTION_KEY_ID = env_str("KEY_ENCRYPTION_KEY_ID", "k1")
# Retired master keys, "id:base64key,...", kept only until `manage.py rotate_wallet_keys` re-wraps.
KEY_ENCRYPTION_KEYS_RETIRED = env_list("KEY_ENCRYPTION_KEYS_RETIRED", "")

if not DEBUG:
    # Production must never run on the keys that ship in this file.
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a random value of 50+ characters.")
    if KEY_ENCRYPTION_KEY == DEV_KEY_ENCRYPTION_KEY:
        raise ImproperlyConfigured("DEBUG is off: set KEY_ENCRYPTION_KEY (32 random bytes, base64).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
APP_HOST = env_str("APP_HOST", "127.0.0.1")
APP_PORT = env_int("APP_PORT", 8000)
SITE_URL = env_str("SITE_URL", f"http://{APP_HOST}:{APP_PORT}")

INSTALLED_APPS = [
    "daphne",
    "unfold.apps.BasicAppConfig",  # not the default config: it would replace our admin site
    "unfold.contrib.filters",
    "config.apps.MongoAdminConfig",
    "config.apps.MongoAuthConfig",
    "config.apps.MongoContentTypesConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_mongodb_backend",
    "django_htmx",
    "channels",
    "ninja",
    "huey.contrib.djhuey",
    "core",
    "accounts",
    "wallets",
    "ledger",
    "payroll",
    "invoicing",
    "reporting",
    "ai_audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.ApiCorsMiddleware",
    # On /api/, before anything parses a body: size (413), media type (415), JSON nesting (422).
    "core.jsonapi.middleware.ApiRequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ActiveUserSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.jsonapi.middleware.ApiErrorEnvelopeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.rules",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
# Without MONGODB_URI the embedded SecantusDB server is used (started by `make run` and by the tests).
EMBEDDED_MONGODB_HOST = "127.0.0.1"
EMBEDDED_MONGODB_PORT = env_int("EMBEDDED_MONGODB_PORT", 27117)
MONGODB_URI = env_str("MONGODB_URI", "")
MONGODB_EMBEDDED = MONGODB_URI == ""
MONGODB_NAME = env_str("MONGODB_NAME", "crypto_accounting")
# fsync the embedded server's log at each commit: books of account must survive a power loss.
EMBEDDED_MONGODB_SYNC_ON_COMMIT = env_bool("EMBEDDED_MONGODB_SYNC_ON_COMMIT", True)
# Demo data goes into an empty database on `make run` (never when DEBUG is off unless asked).
LOAD_DEMO_DATA = env_bool("LOAD_DEMO_DATA", DEBUG)
DATABASES = {
    "default": {
        "ENGINE": "core.mongodb",  # django-mongodb-backend with index-friendly $match (core/mongodb)
        "HOST": MONGODB_URI
        or f"mongodb://{EMBEDDED_MONGODB_HOST}:{EMBEDDED_MONGODB_PORT}/?directConnection=true",
        "NAME": MONGODB_NAME,
        "OPTIONS": {"serverSelectionTimeoutMS": env_int("MONGODB_TIMEOUT_MS", 5000)},
    }
}
DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
MIGRATION_MODULES = {
    "admin": "config.mongo_migrations.admin",
    "auth": "config.mongo_migrations.auth",
    "contenttypes": "config.mongo_migrations.contenttypes",
}

# --- Auth -------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.auth_backends.MongoModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.ComplexityValidator"},
    {"NAME": "accounts.validators.PersonalDataValidator"},
]
LOGIN_URL = "backoffice-login"
LOGIN_REDIRECT_URL = "backoffice-home"
LOGOUT_REDIRECT_URL = "backoffice-login"
JWT_ACCESS_TTL_SECONDS = env_int("JWT_ACCESS_TTL_SECONDS", 900)
JWT_ALGORITHM = "HS256"
REFRESH_TOKEN_TTL_SECONDS = env_int("REFRESH_TOKEN_TTL_SECONDS", 14 * 24 * 3600)
SESSION_APPROVAL_SECONDS = env_int("SESSION_APPROVAL_SECONDS", 15 * 60)
EMAIL_VERIFICATION_TTL_SECONDS = env_int("EMAIL_VERIFICATION_TTL_SECONDS", 48 * 3600)
PASSWORD_RESET_TTL_SECONDS = env_int("PASSWORD_RESET_TTL_SECONDS", 3600)
# Validity of an invitation to join an organization (accounts.invitations).
INVITATION_TTL_SECONDS = env_int("INVITATION_TTL_SECONDS", 7 * 24 * 3600)
LOCKOUT_THRESHOLD = env_int("LOCKOUT_THRESHOLD", 5)
LOCKOUT_SECONDS = env_int("LOCKOUT_SECONDS", 15 * 60)
# Per-IP and per-account limits of the auth endpoints: (hits, window seconds).
AUTH_RATE_LIMIT_PER_IP = (env_int("AUTH_RATE_LIMIT_PER_IP", 30), 60)
AUTH_RATE_LIMIT_PER_ACCOUNT = (env_int("AUTH_RATE_LIMIT_PER_ACCOUNT", 10), 60)
VERIFICATION_RESEND_LIMIT = (3, 3600)

# --- Language model (optional) ----------------------------------------------------------------------
# An OpenAI-compatible chat-completions endpoint (core.llm). Empty: everything runs offline (rules, the
# per-organization classifier, static analysis) and no text leaves the server.
LLM_BASE_URL = env_str("LLM_BASE_URL", "").rstrip("/")
LLM_API_KEY = env_str("LLM_API_KEY", "")
LLM_MODEL_NAME = env_str("LLM_MODEL_NAME", "granite3.3")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 20)

# --- Chain ------------------------------------------------------------------------------------------
# Without ETH_RPC_URL a local anvil node is used (started by `make run` and by the tests).
EMBEDDED_ETH_PORT = env_int("EMBEDDED_ETH_PORT", 8545)
ETH_RPC_URL = env_str("ETH_RPC_URL", env_str("GANACHE_URL", ""))
ETH_EMBEDDED = ETH_RPC_URL == ""
if ETH_EMBEDDED:
    ETH_RPC_URL = f"http://127.0.0.1:{EMBEDDED_ETH_PORT}"
ETH_CHAIN_ID = env_int("ETH_CHAIN_ID", env_int("GANACHE_CHAIN_ID", 31337))
ETH_CONFIRMATIONS = env_int("ETH_CONFIRMATIONS", 3)
# Other networks (wallets/networks.py): each appears when its node's URL is set; every node's chain id
# is checked. CHAIN_NETWORKS (set in code) replaces the list entirely.
ETH_EXPLORER_URL = env_str("ETH_EXPLORER_URL", "https://etherscan.io")
POLYGON_RPC_URL = env_str("POLYGON_RPC_URL", "")
POLYGON_CHAIN_ID = env_int("POLYGON_CHAIN_ID", 137)
POLYGON_EXPLORER_URL = env_str("POLYGON_EXPLORER_URL", "https://polygonscan.com")
BSC_RPC_URL = env_str("BSC_RPC_URL", "")
BSC_CHAIN_ID = env_int("BSC_CHAIN_ID", 56)
BSC_EXPLORER_URL = env_str("BSC_EXPLORER_URL", "https://bscscan.com")
# Confirmations on those networks (0: as ETH_CONFIRMATIONS); wallets.networks.confirmations_for.
POLYGON_CONFIRMATIONS = env_int("POLYGON_CONFIRMATIONS", 0)
BSC_CONFIRMATIONS = env_int("BSC_CONFIRMATIONS", 0)
DEFAULT_NETWORK = env_str("DEFAULT_NETWORK", "ethereum")
# `make run`'s anvil mines a block every EMBEDDED_ETH_BLOCK_TIME seconds, so sends reach ETH_CONFIRMATIONS
# by themselves (0: a block only when a transaction arrives, as the tests' node does).
EMBEDDED_ETH_BLOCK_TIME = env_int("EMBEDDED_ETH_BLOCK_TIME", 1)
# A broadcast send no block has included for this long is marked STUCK (way out: transfer_fee_bump).
TRANSFER_STUCK_AFTER_SECONDS = env_int("TRANSFER_STUCK_AFTER_SECONDS", 600)

# --- Request limits ------------------------------------------------------------------------------------
# One bad request never stops the service (core.jsonapi.middleware.ApiRequestLimitsMiddleware): JSON
# bodies up to API_MAX_JSON_BYTES, uploads (the CSV import) up to API_MAX_UPLOAD_BYTES, JSON nested at
# most API_MAX_JSON_DEPTH levels, `application/json` in UTF-8 only.
API_MAX_JSON_BYTES = env_int("API_MAX_JSON_BYTES", 2_621_440)
API_MAX_UPLOAD_BYTES = env_int("API_MAX_UPLOAD_BYTES", 21 * 1024 * 1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 64)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_JSON_BYTES, 2_621_440)

# --- Redis, tasks, channels, cache ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "crypto_accounting",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "crypto_accounting",
        "filename": str(Path(env_str("HUEY_SQLITE_PATH", str(DATA_DIR / "huey.sqlite3")))),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # File-based so rate-limit counters are shared by every server process on this machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Email ------------------------------------------------------------------------------------------
# Without EMAIL_HOST, `make run` starts a local SMTP catcher that stores every message under var/mail/.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_EMBEDDED = EMAIL_HOST == ""
EMBEDDED_SMTP_PORT = env_int("EMBEDDED_SMTP_PORT", 1025)
if EMAIL_EMBEDDED:
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = EMBEDDED_SMTP_PORT
else:
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_EMBEDDED and EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "books@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Prices -------------------------------------------------------------------------------------------
# Without PRICE_API_BASE_URL prices come only from the local store (admin, CSV, trades): offline.
PRICE_API_BASE_URL = env_str("PRICE_API_BASE_URL", "")  # e.g. https://api.coingecko.com/api/v3
PRICE_API_KEY = env_str("PRICE_API_KEY", "")
PRICE_API_TIMEOUT_SECONDS = env_int("PRICE_API_TIMEOUT_SECONDS", 10)
REPORTING_FIAT = env_str("REPORTING_FIAT", "USD")

# --- Contracts, audits, news (ai_audit) ---------------------------------------------------------------
SOLC_TIMEOUT_SECONDS = env_int("SOLC_TIMEOUT_SECONDS", 120)
SLITHER_PYTHON = env_str("SLITHER_PYTHON", "")  # default: .venv-slither/bin/python (scripts/install-slither.sh)
SLITHER_TIMEOUT_SECONDS = env_int("SLITHER_TIMEOUT_SECONDS", 180)
AUDIT_MAX_UPLOAD_BYTES = env_int("AUDIT_MAX_UPLOAD_BYTES", 512 * 1024)
NEWS_FETCH_TIMEOUT_SECONDS = env_int("NEWS_FETCH_TIMEOUT_SECONDS", 10)
NEWS_MAX_FEED_BYTES = env_int("NEWS_MAX_FEED_BYTES", 2 * 1024 * 1024)
NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = env_bool("NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES", False)  # loopback/private feeds (tests, dev)

# --- I18N, static -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"
# whitenoise serves static files from daphne: straight from the app folders in development,
# from STATIC_ROOT (filled by `collectstatic`, which runstack runs when DEBUG is off) in production.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging ----------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_TO_FILES = env_bool("LOG_TO_FILES", True)
_log_handlers = {"console": {"class": "logging.StreamHandler", "formatter": "plain"}}
if LOG_TO_FILES:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    _log_handlers["app_file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": str(LOG_DIR / "crypto_accounting.log"),
        "formatter": "plain",
    }
    _log_handlers["security_file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": str(LOG_DIR / "security.log"),
        "formatter": "plain",
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": _log_handlers,
    "root": {"handlers": [h for h in _log_handlers if h != "security_file"], "level": LOG_LEVEL},
    "loggers": {
        "security": {
            "handlers": [h for h in ("console", "security_file") if h in _log_handlers],
            "level": "INFO",
            "propagate": False,
        },
        "django.db.backends": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},
        # PDF rendering logs every layout step at INFO: only its problems belong in our logs.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Admin (unfold) ---------------------------------------------------------------------------------
from config.unfold import UNFOLD  # noqa: E402,F401  (kept in its own module: it is long)
UNFOLD["DASHBOARD_CALLBACK"] = "config.admin_dashboard.dashboard_callback"  # the admin's index is the dashboard
