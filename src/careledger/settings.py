"""Django settings for CareLedger. Configuration comes from environment variables only
(see `careledger.config` and README)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from careledger.config import env_bool, env_int, env_list, env_str, secret_file, var_dir

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = var_dir()

SECRET_KEY = env_str("CARELEDGER_SECRET_KEY", "") or secret_file(VAR_DIR / "secret_key")
DEBUG = env_bool("CARELEDGER_DEBUG", False)
ALLOWED_HOSTS = env_list("CARELEDGER_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
DEMO_MODE = env_bool("CARELEDGER_DEMO", False)
HTTPS = env_bool("CARELEDGER_HTTPS", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "oauth2_provider",
    "careledger.crypto",
    "careledger.ledger",
    "careledger.institutions",
    "careledger.accounts",
    "careledger.access",
    "careledger.clients",
    "careledger.records",
    "careledger.observations",
    "careledger.exams",
    "careledger.questionnaires",
    "careledger.assessment",
    "careledger.tagging",
    "careledger.advice",
    "careledger.membership",
    "careledger.store",
    "careledger.booking",
    "careledger.exports",
    "careledger.audit",
    "careledger.notifications",
    "careledger.portal",
    "careledger.fhirapi",
    "careledger.sharing",
    "careledger.consent",
    "careledger.backup",
    "careledger.retention",
    "careledger.followup",
    "careledger.reports",
    "careledger.web",
    "careledger.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "careledger.web.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.messages.middleware.MessageMiddleware",
    # Portal clients stay in /portal/, staff stay out of it (careledger.portal).
    "careledger.portal.middleware.PortalBoundaryMiddleware",
    # Timeouts, "log out everywhere", disabled accounts, and MFA before anything else (staff).
    "careledger.accounts.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "careledger.web.middleware.NoStoreMiddleware",
    # Last, as django-axes asks; its lockout answer is our ordinary login page (see below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "careledger.urls"
WSGI_APPLICATION = "careledger.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

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
                "careledger.web.context.workbench",
            ],
        },
    }
]

# --- database: SQLite (WAL) embedded default, PostgreSQL via DATABASE_URL -------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'careledger.sqlite3'}"),
        conn_max_age=env_int("CARELEDGER_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN
        # so concurrent writers queue (busy timeout) instead of failing mid-transaction.
        # A 64 MiB page cache: blind-index and UUID keys are random, so index inserts touch
        # pages all over the B-trees; the 2 MiB default made enrolment slow down with size.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- passwords: Argon2id first ------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {
            "user_attributes": ("username", "display_name", "first_name", "last_name", "email")
        },
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- authentication: password (lockout-aware) → TOTP for every staff role --------------------
# One backend: django-axes' lockout check and Django's ModelBackend, with the locked-out case
# made to cost one password hash like the others (no user enumeration by timing).
AUTHENTICATION_BACKENDS = ["careledger.accounts.backends.StaffBackend"]
AXES_FAILURE_LIMIT = env_int("CARELEDGER_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = _dt.timedelta(seconds=env_int("CARELEDGER_LOCKOUT_SECONDS", 15 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
AXES_LOCKOUT_CALLABLE = "careledger.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False  # a success does not wipe an IP's failures against other names
AXES_DISABLE_ACCESS_LOG = True  # the ledger records sign-ins; no second, unsealed log
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "CareLedger 康链"
OTP_TOTP_SYNC = True
CARELEDGER_RESET_LINK_SECONDS = env_int("CARELEDGER_RESET_LINK_SECONDS", 24 * 3600)
CARELEDGER_STEP_UP_SECONDS = 300

# --- keys ----------------------------------------------------------------------------------
CARELEDGER_MASTER_KEY = env_str("CARELEDGER_MASTER_KEY", "")
CARELEDGER_KEY_FILE = Path(env_str("CARELEDGER_KEY_FILE", str(VAR_DIR / "master.key")))

# --- sessions and transport security (hardened further by the security-core issue) --------
SESSION_COOKIE_AGE = env_int("CARELEDGER_SESSION_IDLE_SECONDS", 15 * 60)
# Idle and absolute limits are also checked by careledger.accounts.middleware on every request.
CARELEDGER_SESSION_IDLE_SECONDS = SESSION_COOKIE_AGE
CARELEDGER_SESSION_ABSOLUTE_SECONDS = env_int("CARELEDGER_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: every request pushes expiry forward
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# Behind TLS the cookies carry the __Host- prefix: browsers then refuse them unless Secure,
# host-only and Path=/, so a sibling subdomain cannot plant or overwrite them.
SESSION_COOKIE_NAME = "__Host-careledger_session" if HTTPS else "careledger_session"
CSRF_COOKIE_NAME = "__Host-careledger_csrf" if HTTPS else "careledger_csrf"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- oversight: break-glass and the anomaly scan (careledger.audit) ------------------------
CARELEDGER_BREAK_GLASS_MAX_MINUTES = env_int("CARELEDGER_BREAK_GLASS_MAX_MINUTES", 60)

# --- notifications (careledger.notifications) and the client portal (careledger.portal) ----
CARELEDGER_NOTIFY_BACKEND = env_str("CARELEDGER_NOTIFY_BACKEND", "console")
CARELEDGER_OUTBOX_DIR = Path(env_str("CARELEDGER_OUTBOX_DIR", str(VAR_DIR / "outbox")))
CARELEDGER_SMS_URL = env_str("CARELEDGER_SMS_URL", "")
# Outbound sensitive-data check (notifications.outbound): "block" (default) or "warn".
CARELEDGER_OUTBOUND_POLICY = env_str("CARELEDGER_OUTBOUND_POLICY", "block")
# Printed reports: the CJK font embedded (subset) in each PDF; default Debian's fonts-noto-cjk.
CARELEDGER_REPORT_FONT = env_str("CARELEDGER_REPORT_FONT", "")
CARELEDGER_REPORT_FONT_FACE = env_str("CARELEDGER_REPORT_FONT_FACE", "Noto Sans CJK SC")
# A cached cut of that face to the common characters (var/cache/fonts), built once: faster prints.
CARELEDGER_REPORT_FONT_CUT = env_bool("CARELEDGER_REPORT_FONT_CUT", True)
CARELEDGER_SMS_KEY = env_str("CARELEDGER_SMS_KEY", "")
CARELEDGER_SMS_TIMEOUT = float(env_str("CARELEDGER_SMS_TIMEOUT", "5"))
CARELEDGER_SMS_ATTEMPTS = env_int("CARELEDGER_SMS_ATTEMPTS", 3)
CARELEDGER_SMS_BACKOFF = float(env_str("CARELEDGER_SMS_BACKOFF", "0.5"))

# --- report sync (careledger.exams) -----------------------------------------------------------
CARELEDGER_VAR_DIR = VAR_DIR
CARELEDGER_IMPORT_MAX_MB = env_int("CARELEDGER_IMPORT_MAX_MB", 50)
CARELEDGER_IMPORT_BATCH = env_int("CARELEDGER_IMPORT_BATCH", 200)


# --- FHIR R4 API and client-controlled sharing (careledger.fhirapi, careledger.sharing) ----
# Partners sign in with OAuth 2 client credentials (django-oauth-toolkit): secrets hashed,
# tokens short-lived, scopes the SMART system scopes each partner was registered with.
def _share_scopes() -> list[str]:
    from careledger.sharing.categories import all_scopes  # pure module, no Django

    return all_scopes()


OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("CARELEDGER_PARTNER_TOKEN_SECONDS", 900),
    "SCOPES_BACKEND_CLASS": "careledger.sharing.oauth.PartnerScopes",
    "SCOPES": {scope: scope for scope in _share_scopes()},
    "OAUTH2_VALIDATOR_CLASS": "careledger.sharing.oauth.PartnerValidator",
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Share grants: how long a portal confirmation code lives, the longest a grant may run.
CARELEDGER_SHARE_CODE_SECONDS = env_int("CARELEDGER_SHARE_CODE_SECONDS", 300)

# --- i18n: Chinese first ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- background work: Celery; the embedded default is a broker on the local filesystem ----
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # Kombu's default is ./control in the working directory; keep it under var/ too.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
for _folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():
    if isinstance(_folder, str):
        Path(_folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
# Signed tree heads of the audit ledger (idempotent: no new head while nothing was appended).
CARELEDGER_LEDGER_SIGN_SECONDS = env_int("CARELEDGER_LEDGER_SIGN_SECONDS", 600)
CELERY_BEAT_SCHEDULE["ledger-sign-tree-head"] = {
    "task": "careledger.ledger.sign_tree_head",
    "schedule": float(CARELEDGER_LEDGER_SIGN_SECONDS),
}
# --- bulk and research exports (careledger.exports) ----------------------------------------
# An approved export's sealed file lives this long (then file and key are destroyed, hourly).
CARELEDGER_EXPORT_TTL_HOURS = env_int("CARELEDGER_EXPORT_TTL_HOURS", 72)
CELERY_BEAT_SCHEDULE["exports-purge-expired"] = {
    "task": "careledger.exports.purge_expired",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["audit-anomaly-scan"] = {
    "task": "careledger.audit.tasks.scan_anomalies",
    "schedule": 600.0,  # every 10 minutes; the scan only judges complete hours
}
from celery.schedules import crontab  # noqa: E402

# Risk assessment: every model for everyone, nightly, before the tags that read its levels.
CELERY_BEAT_SCHEDULE["assessment-nightly-run"] = {
    "task": "careledger.assessment.assess_everyone",
    "schedule": crontab(hour=2, minute=0),
}
# Rule-based tags: every published rule re-evaluated for everyone, nightly (idempotent).
CELERY_BEAT_SCHEDULE["tagging-nightly-reevaluation"] = {
    "task": "careledger.tagging.reevaluate_everyone",
    "schedule": crontab(hour=2, minute=30),
}
# Retention (careledger.retention): clients inactive longer than this are archived or
# anonymised, per institution policy (these are the defaults for institutions without one).
CARELEDGER_RETENTION_INACTIVE_DAYS = env_int("CARELEDGER_RETENTION_INACTIVE_DAYS", 730)
CARELEDGER_RETENTION_ACTION = env_str("CARELEDGER_RETENTION_ACTION", "archive")
CELERY_BEAT_SCHEDULE["retention-nightly-run"] = {
    "task": "careledger.retention.apply_retention",
    "schedule": crontab(hour=3, minute=30),
}
# Check-up booking (careledger.booking): yesterday's unattended bookings become no-shows
# shortly after midnight; tomorrow's bookings are reminded in the afternoon (both idempotent).
CELERY_BEAT_SCHEDULE["booking-mark-no-shows"] = {
    "task": "careledger.booking.mark_no_shows",
    "schedule": crontab(hour=0, minute=20),
}
CELERY_BEAT_SCHEDULE["booking-reminders"] = {
    "task": "careledger.booking.send_reminders",
    "schedule": crontab(hour=16, minute=0),
}
# Store (careledger.store): unpaid orders past their time expire, every five minutes.
CELERY_BEAT_SCHEDULE["store-expire-orders"] = {
    "task": "careledger.store.expire_orders",
    "schedule": 300.0,
}
# Follow-up (careledger.followup): enrolments and the coming days' tasks are generated, SLA
# breaches escalated and withdrawn channels cancelled every hour (idempotent: a run that finds
# nothing new writes nothing). Tasks are made this many days ahead of their date.
CARELEDGER_FOLLOWUP_HORIZON_DAYS = env_int("CARELEDGER_FOLLOWUP_HORIZON_DAYS", 7)
# The click-to-call gateway (careledger.followup.telephony): "record" logs the request only.
CARELEDGER_CALL_BACKEND = env_str("CARELEDGER_CALL_BACKEND", "record")
CELERY_BEAT_SCHEDULE["followup-generate"] = {
    "task": "careledger.followup.generate_everywhere",
    "schedule": crontab(minute=0),
}

# --- logs: JSON lines, ids only -----------------------------------------------------------
LOG_LEVEL = env_str("CARELEDGER_LOG_LEVEL", "INFO")
LOGGING_CONFIG = "careledger.logs.configure"
LOGGING = {"level": LOG_LEVEL}
