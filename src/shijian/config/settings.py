"""Django settings. Every knob is an environment variable read by a typed helper (see docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from shijian.config.env import ConfigError, database_from_url, env_bool, env_int, env_list, env_str
from shijian.config.identity import ldap_settings, oidc_settings
from shijian.config.storage import default_storage_setting
from shijian.ops.logs import logging_config

PACKAGE_DIR = Path(__file__).resolve().parent.parent
HOME = Path(env_str("SHIJIAN_HOME", str(Path.cwd() / "var"))).resolve()

HOME.mkdir(parents=True, exist_ok=True)
DEBUG = env_bool("SHIJIAN_DEBUG", False)
SECRET_KEY = env_str("SHIJIAN_SECRET_KEY", "")
if not SECRET_KEY:
    # A per-installation key kept in the data directory, so that a fresh demo needs no set-up.
    key_file = HOME / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        import secrets

        SECRET_KEY = secrets.token_urlsafe(50)
        key_file.write_text(SECRET_KEY)
        key_file.chmod(0o600)

ALLOWED_HOSTS = env_list("SHIJIAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "shijian.core",
    "shijian.accounts",
    "shijian.registry",
    "shijian.lake",
    "shijian.supervision",
    "shijian.translog",
    "shijian.hazards",
    "shijian.cases",
    "shijian.risk",
    "shijian.analytics",
    "shijian.jobs",
    "shijian.notify",
    "shijian.dataadmin",
    "shijian.files",
    "shijian.api",
    "ninja",
    "shijian.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shijian.core.request_context.RequestIdMiddleware",
    "shijian.ops.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shijian.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shijian.core.request_context.CurrentUserMiddleware",
    "shijian.web.middleware.SecurityHeadersMiddleware",
    "shijian.web.middleware.DeniedRequestAuditMiddleware",
    "shijian.web.middleware.QueryTextMiddleware",
    "shijian.accounts.middleware.SecondFactorRequiredMiddleware",
    "shijian.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shijian.config.urls"
WSGI_APPLICATION = "shijian.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shijian.web.context.navigation",
                "shijian.notify.context.unread",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(env_str("SHIJIAN_DATABASE_URL", f"sqlite:///{HOME / 'shijian.sqlite3'}"), Path.cwd())
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Argon2id first (accounts/hashers.py); PBKDF2 hashes of older installations still verify and are re-hashed.
PASSWORD_HASHERS = [
    "shijian.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# The second factor (TOTP authenticator, recovery codes): required of these roles and of superusers (accounts/otp.py).
SHIJIAN_OTP_ROLES = env_list("SHIJIAN_OTP_ROLES", ["leader", "data_admin"])
_unknown_roles = set(SHIJIAN_OTP_ROLES) - {"leader", "dept_staff", "inspector", "data_admin", "auditor"}
if _unknown_roles:
    raise ConfigError(f"SHIJIAN_OTP_ROLES: unknown roles {sorted(_unknown_roles)}")
OTP_TOTP_ISSUER = env_str("SHIJIAN_OTP_ISSUER", "Shijian")

# Directory sign-ins (accounts/directory.py): groups named {prefix}-role-..., {prefix}-region-..., {prefix}-dept-...
SHIJIAN_DIRECTORY_GROUP_PREFIX = env_str("SHIJIAN_DIRECTORY_GROUP_PREFIX", "shijian")
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# LDAP (accounts/ldap.py): enabled by SHIJIAN_LDAP_URL.
SHIJIAN_LDAP_URL = env_str("SHIJIAN_LDAP_URL", "")
if SHIJIAN_LDAP_URL:
    globals().update(
        ldap_settings(
            SHIJIAN_LDAP_URL,
            bind_dn=env_str("SHIJIAN_LDAP_BIND_DN", ""),
            bind_password=env_str("SHIJIAN_LDAP_BIND_PASSWORD", ""),
            user_base=env_str("SHIJIAN_LDAP_USER_BASE", ""),
            user_filter=env_str("SHIJIAN_LDAP_USER_FILTER", "(uid=%(user)s)"),
            group_base=env_str("SHIJIAN_LDAP_GROUP_BASE", ""),
            start_tls=env_bool("SHIJIAN_LDAP_START_TLS", False),
        )
    )
    AUTHENTICATION_BACKENDS.append("shijian.accounts.ldap.LDAPBackend")
# OIDC (accounts/oidc.py): enabled by SHIJIAN_OIDC_CLIENT_ID with the provider's endpoints.
SHIJIAN_OIDC_GROUPS_CLAIM = env_str("SHIJIAN_OIDC_GROUPS_CLAIM", "groups")
SHIJIAN_OIDC_ENABLED = bool(env_str("SHIJIAN_OIDC_CLIENT_ID", ""))
if SHIJIAN_OIDC_ENABLED:
    globals().update(
        oidc_settings(
            client_id=env_str("SHIJIAN_OIDC_CLIENT_ID", ""),
            client_secret=env_str("SHIJIAN_OIDC_CLIENT_SECRET", ""),
            authorization_endpoint=env_str("SHIJIAN_OIDC_AUTHORIZATION_ENDPOINT", ""),
            token_endpoint=env_str("SHIJIAN_OIDC_TOKEN_ENDPOINT", ""),
            userinfo_endpoint=env_str("SHIJIAN_OIDC_USERINFO_ENDPOINT", ""),
            jwks_endpoint=env_str("SHIJIAN_OIDC_JWKS_ENDPOINT", ""),
            scopes=env_str("SHIJIAN_OIDC_SCOPES", "openid profile email groups"),
            sign_algo=env_str("SHIJIAN_OIDC_SIGN_ALGO", "RS256"),
        )
    )
    AUTHENTICATION_BACKENDS.append("shijian.accounts.oidc.OIDCBackend")

# Login throttling: failures allowed per user name (from any address) and per client address (for any name)
# within the window.
SHIJIAN_LOGIN_MAX_FAILURES = env_int("SHIJIAN_LOGIN_MAX_FAILURES", 5)
SHIJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("SHIJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
SHIJIAN_LOGIN_WINDOW_SECONDS = env_int("SHIJIAN_LOGIN_WINDOW_SECONDS", 900)
SHIJIAN_API_TOKEN_SECONDS = env_int("SHIJIAN_API_TOKEN_SECONDS", 3600)
SHIJIAN_API_SYNC_LAG_SECONDS = env_int("SHIJIAN_API_SYNC_LAG_SECONDS", 5)
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; empty: the client is REMOTE_ADDR.
SHIJIAN_TRUSTED_PROXIES = env_list("SHIJIAN_TRUSTED_PROXIES", [])
for _proxy in SHIJIAN_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ConfigError(f"SHIJIAN_TRUSTED_PROXIES: {_proxy!r} is not an address or network") from _exc

# Sessions and cookies: secure by default. SHIJIAN_HTTPS=0 only for a loopback demo over plain HTTP.
HTTPS = env_bool("SHIJIAN_HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SHIJIAN_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SHIJIAN_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = 31536000 if HTTPS and SECURE_SSL_REDIRECT else 0
CSRF_TRUSTED_ORIGINS = env_list("SHIJIAN_CSRF_TRUSTED_ORIGINS", [])

CACHE_URL = env_str("SHIJIAN_CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # Shared by every worker process on this machine (login throttling, cached aggregates).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(HOME / "cache")}
    }

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploaded evidence (photos, documents of inspections); served only through permission-checked views
# (shijian.files.stored.serve): no URL serves MEDIA_URL.
MEDIA_ROOT = HOME / "media"
MEDIA_URL = "/media/"
SHIJIAN_ATTACHMENT_MAX_BYTES = env_int("SHIJIAN_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Where stored files live (docs/deploy.md, "File storage"): local (MEDIA_ROOT) or s3 (SHIJIAN_S3_*).
SHIJIAN_STORAGE = env_str("SHIJIAN_STORAGE", "local")
STORAGES = default_storage_setting(SHIJIAN_STORAGE)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The region shown when a user has none (a superuser): the demo district, 高明区.
SHIJIAN_HOME_REGION = env_str("SHIJIAN_HOME_REGION", "440608")

# A TrueType font file embedded in PDF reports; empty: the PDF standard Chinese font STSong-Light.
SHIJIAN_PDF_FONT = env_str("SHIJIAN_PDF_FONT", "")

# The bureau's signing key for documents (PKCS#12 file and its password); empty: a demo key generated once under
# SHIJIAN_HOME/signing/ (docs/cases.md).
SHIJIAN_SIGNING_P12 = env_str("SHIJIAN_SIGNING_P12", "")
SHIJIAN_SIGNING_PASSWORD = env_str("SHIJIAN_SIGNING_PASSWORD", "")
# An RFC 3161 time-stamp authority (http(s) URL) whose timestamp each signature carries; empty: none.
SHIJIAN_TSA_URL = env_str("SHIJIAN_TSA_URL", "")

# The record lake (Parquet) of departmental records.
SHIJIAN_LAKE = Path(env_str("SHIJIAN_LAKE", str(HOME / "lake"))).resolve()
# Feed mappings written by the mapping editor (one <feed>.toml each); `shijian ingest --mapping` reads the same.
SHIJIAN_MAPPINGS = Path(env_str("SHIJIAN_MAPPINGS", str(HOME / "mappings"))).resolve()

# Bulk import and export limits.
SHIJIAN_IMPORT_MAX_ROWS = env_int("SHIJIAN_IMPORT_MAX_ROWS", 20000)
SHIJIAN_IMPORT_MAX_BYTES = env_int("SHIJIAN_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
SHIJIAN_EXPORT_MAX_ROWS = env_int("SHIJIAN_EXPORT_MAX_ROWS", 1_048_575)  # an Excel sheet's rows, less the header
SHIJIAN_EXPORT_JOB_ROWS = env_int("SHIJIAN_EXPORT_JOB_ROWS", 20000)  # above it, an export runs as a job

# Jobs (docs/jobs.md): the queue (empty: SQLite beside the data; redis://...; immediate), worker threads.
SHIJIAN_JOBS_URL = env_str("SHIJIAN_JOBS_URL", "")
SHIJIAN_JOBS_WORKERS = env_int("SHIJIAN_JOBS_WORKERS", 2)

# Notifications (docs/jobs.md): e-mail through Django's SMTP backend, and a WeCom/DingTalk-style webhook.
EMAIL_HOST = env_str("SHIJIAN_EMAIL_HOST", "")
EMAIL_PORT = env_int("SHIJIAN_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("SHIJIAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("SHIJIAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SHIJIAN_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("SHIJIAN_EMAIL_FROM", "shijian@localhost")
SHIJIAN_WEBHOOK_URL = env_str("SHIJIAN_WEBHOOK_URL", "")
SHIJIAN_NOTIFY_RETRIES = env_int("SHIJIAN_NOTIFY_RETRIES", 3)
DATA_UPLOAD_MAX_MEMORY_SIZE = SHIJIAN_IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Logs to stderr, one JSON object per line (text: for a terminal), with the request id and user; one line per
# request on the "shijian.request" logger (SHIJIAN_REQUEST_LOG=0 turns it off).
LOG_FORMAT = env_str("SHIJIAN_LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"SHIJIAN_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = logging_config(env_str("SHIJIAN_LOG_LEVEL", "WARNING"), LOG_FORMAT, env_bool("SHIJIAN_REQUEST_LOG", True))

# /metrics answers loopback requests (not through a proxy), or this bearer token from anywhere (docs/deploy.md).
SHIJIAN_METRICS_TOKEN = env_str("SHIJIAN_METRICS_TOKEN", "")

# Labels used in the UI for the verbose name of this deployment.
SHIJIAN_SITE_TITLE = _("Shijian market supervision platform")
