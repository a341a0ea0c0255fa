"""AgentIQ settings: one module, configured by environment variables (12-factor).

Every variable is documented in README.md with its default. Development defaults are
embedded (SQLite file, embedded Redis); production (DEBUG off) refuses default secrets.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")
# Local state of `make run`: the SQLite file and the embedded Redis.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEV_SECRET_KEY = "dev-insecure-agentiq-secret-key-change-me"  # noqa: S105
# A valid Fernet key that is public: fine for development, refused in production.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWFnZW50aXEta2V5LTMyYnl0ZXM="

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default=DEV_FIELD_ENCRYPTION_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a long random value.")
    if DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEY.split(","):
        raise ImproperlyConfigured(
            "DEBUG is off: set FIELD_ENCRYPTION_KEY to a Fernet key "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "django_rq",
    "axes",
    "inbox",
    "connectors",
    "intelligence",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "agentiq.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "inbox.tenancy.WorkspaceMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "agentiq.urls"
WSGI_APPLICATION = "agentiq.wsgi.application"

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
                "inbox.context_processors.workspace",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'agentiq.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Page queries are short: JIT compilation (tens of ms) would cost more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# Parallel test runs (several checkouts on one machine) can pick their own test database.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_agentiq")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and RQ ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    from agentiq.embedded_redis import embedded_redis_url

    REDIS_URL = embedded_redis_url(VAR_DIR / "redis.rdb")

RQ_QUEUE_NAMES = ("sync", "ai", "outbox", "default")
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in RQ_QUEUE_NAMES}
RQ_SHOW_ADMIN_LINK = True

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "agentiq",
    },
    # Rendered template fragments, in each process's memory (no round trip): a fragment's key
    # is everything it prints (e.g. an inbox row's values and the language), so an entry never
    # goes stale; it only makes repeated renders (the list refreshing, a reload) cheap.
    "template_fragments": {
        "BACKEND": "agentiq.cache.FragmentCache",
        "LOCATION": "agentiq-template-fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "inbox.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "inbox.tenancy.MemberBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:home"
LOGOUT_REDIRECT_URL = "landing"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form field (it holds the e-mail)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
# Sessions are read from Redis on each request and kept in the database as well.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AgentIQ <noreply@agentiq.local>")

# --- I18n -----------------------------------------------------------------------------------
# Russian for everyone, whatever the browser asks for: the sellers and their agents are
# Russian-speaking, and a half-English interface in an English-language browser helps nobody.
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")

# --- Marketplaces, LLM ---------------------------------------------------------------------
# Where the marketplace simulator listens; demo accounts point their base URL at it.
SIMULATOR_URL = env.str("SIMULATOR_URL", default="http://127.0.0.1:8001")
# Our side of the marketplaces' per-account rate limits (shared Redis buckets). Turn off only
# against the simulator with its limits off (benchmarks of our own pipeline).
MARKETPLACE_CLIENT_LIMITS = env.bool("MARKETPLACE_CLIENT_LIMITS", default=True)
LLM_ENGINE = env.str("LLM_ENGINE", default="rules")  # "rules" or "llm"
LLM_BASE_URL = env.str("LLM_BASE_URL", default="https://api.deepseek.com/v1")
LLM_MODEL = env.str("LLM_MODEL", default="deepseek-chat")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=8.0)
LLM_MAX_PER_SYNC = env.int("LLM_MAX_PER_SYNC", default=10)
# The "sync cycle" over which LLM_MAX_PER_SYNC is counted per account.
LLM_SYNC_CYCLE_SECONDS = env.int("LLM_SYNC_CYCLE_SECONDS", default=60)
# Circuit breaker (state in Redis, shared by all workers): open after this many failures
# within the window, try again after the cool-down; meanwhile the rules engine answers.
LLM_BREAKER_FAILURES = env.int("LLM_BREAKER_FAILURES", default=5)
LLM_BREAKER_WINDOW_SECONDS = env.int("LLM_BREAKER_WINDOW_SECONDS", default=60)
LLM_BREAKER_COOLDOWN_SECONDS = env.int("LLM_BREAKER_COOLDOWN_SECONDS", default=30)

# --- Logging and Sentry --------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
    )
