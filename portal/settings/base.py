"""One environment-driven settings module.

Defaults give the embedded set-up (SQLite, django-q2 ORM broker, local-memory cache, console
SMS). ``DATABASE_URL`` and ``REDIS_URL`` scale it out. With ``DJANGO_DEBUG`` off the portal
refuses to start without a real secret key and allowed hosts, because this portal holds health
and criminal-justice data and must never run in production with development defaults.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

TRUE_VALUES = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_VALUES


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Only ever used when DEBUG is on; refused otherwise (see refuse_insecure_production below).
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
PUBLIC_BASE_URL_IS_HTTPS = urlsplit(PUBLIC_BASE_URL).scheme == "https"

CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL] if PUBLIC_BASE_URL_IS_HTTPS else []

WAGTAIL_SITE_NAME = "Liaison and Diversion peer support"
WAGTAILADMIN_BASE_URL = PUBLIC_BASE_URL

INSTALLED_APPS = [
    # Our apps first so their templates (NHS-styled allauth, error pages) win.
    "portal",
    "peer_support",
    "notifications",
    "content",
    # Wagtail and the NHS.UK design system
    "wagtailnhsukfrontend",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Accounts
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Queue, phone numbers
    "django_q",
    "phonenumber_field",
    "csp",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.PortalCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and auth: a cached page for an anonymous reader costs no query.
    "content.cache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequireMFAMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the django-q2 worker share one SQLite file: wait for locks rather
    # than failing, and take the write lock at the start of a transaction so two writers
    # never deadlock on an upgrade from a read lock.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

# --- Cache and queue ------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "portal",
        }
    }

# Public pages for anonymous readers (content/cache.py). Shared by every process of the site,
# so a publish in one process (or an unpublish in the worker) reaches all of them at once:
# Redis when there is one, else a file-based cache on this machine.
PAGE_CACHE_SECONDS = int(os.environ.get("DJANGO_PAGE_CACHE_SECONDS", "3600"))
if REDIS_URL:
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal-pages",
    }
else:
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("DJANGO_PAGE_CACHE_DIR", str(BASE_DIR / ".page-cache")),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }

# django-q2. Chosen deliberately:
# - timeout (how long one task may run) is well under retry (when an unacknowledged task is
#   handed out again), so a slow task is killed before a second copy of it can start;
# - max_attempts is explicit: a task that keeps failing stops after a few tries and is kept
#   in the failed-task list for a person to look at, instead of looping for ever;
# - catch_up is off: after downtime the scheduler runs each schedule once, not once for every
#   missed slot (a backlog of reminder sweeps or unpublish checks would do harm, not good);
# - ack_failures keeps a failed task from being re-queued behind the broker's back: retries are
#   decided by our services, which know whether a provider call may already have happened.
Q_CLUSTER = {
    "name": "portal",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    # The last 100 successful runs of each task function are kept (failures are always
    # kept). django-q2 reads every kept success of that function, locked, after each task:
    # 1,000 in one pool made its monitor slower than the texts it was recording.
    "save_limit": 100,
    "save_limit_per": "func",
    "queue_limit": 50,
    "label": "Task queue",
    "cpu_affinity": 0,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# Schedules the `setup_schedules` command creates or updates (idempotently, by name).
# `schedule_type` is one of django-q2's codes: I every `minutes`, H hourly, D daily, W weekly.
PORTAL_SCHEDULES = [
    {
        "name": "Clear expired sessions",
        "func": "portal.tasks.sessions_clear_expired",
        "schedule_type": "D",
    },
    {
        # Case studies whose publication consent has expired or been withdrawn come down
        # within one run of this schedule.
        "name": "Unpublish case studies without consent",
        "func": "content.tasks.case_studies_consent_sweep",
        "schedule_type": "I",
        "minutes": 15,
    },
    {
        # Supporters whose DBS lapsed, training is missing or supervision is overdue are paused
        # so they cannot be matched (peer_support/readiness.py).
        "name": "Pause supporters who are not ready",
        "func": "peer_support.tasks.supporters_readiness_sweep",
        "schedule_type": "D",
    },
    {
        # An offer not answered by its deadline (PEER_OFFER_DEADLINE_HOURS) goes to the next
        # candidate, and the coordinator is told, within one run of this schedule.
        "name": "Offer unanswered peer support requests to the next supporter",
        "func": "peer_support.tasks.offers_expire_sweep",
        "schedule_type": "I",
        "minutes": 15,
    },
    {
        # Due reminders and replies are queued, stuck sends reconciled with the provider and
        # lost tasks re-queued, within a minute (notifications/services.py).
        "name": "Send due text messages",
        "func": "notifications.tasks.messages_dispatch",
        "schedule_type": "I",
        "minutes": 1,
    },
]

# --- Authentication -------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/dashboard/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"

# Staff, volunteers and editors: email + password, then an authenticator app (allauth.mfa).
# Service users: mobile number + a one-time code sent by text message; no password, no email.
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 180
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
# Six digits: easy to read aloud and type, and phones offer to fill them in from the text.
# (allauth makes phone sign-in codes with its phone verification code format.)
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "dashed": False, "length": 6}
ACCOUNT_LOGIN_BY_CODE_FORMAT = ALLAUTH_USER_CODE_FORMAT
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = ALLAUTH_USER_CODE_FORMAT
ACCOUNT_SIGNUP_FIELDS = ["phone", "email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's rate limits (its defaults, stated so a test can see them) on the shared cache.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "request_login_code": "20/m/ip,3/m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    # Our own: the public "Ask for a peer supporter" form (peer_support), per address.
    "peer_support_request": "5/h/ip",
    # Our own: the confirm link in text reminders (notifications), per address.
    "appointment_link": "30/m/ip",
}
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_FORMS = {
    "login": "portal.forms.EmailPasswordLoginForm",
    "request_login_code": "portal.forms.MobileLoginCodeForm",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "L&D peer support"
# The function that sends a text message (the notifications app, above portal).
PORTAL_SMS_SENDER = "notifications.sms.send_sms"
# Nobody signs themselves up: staff and volunteers are invited, service users are referred.
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"

PHONENUMBER_DEFAULT_REGION = "GB"
PHONENUMBER_DEFAULT_FORMAT = "E164"
# Ofcom's drama range (07700 900xxx) for demo data and tests; never on in production.
PHONE_ALLOW_FICTIONAL_NUMBERS = DEBUG

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "portal.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 0 if DEBUG else 60 * 60

# --- Peer matching --------------------------------------------------------------------------

# How much each part of the score counts when suggesting a peer supporter (peer_support/
# matching.py). Each part is 0..1 and the total is divided by the sum of the weights, so only
# their proportions matter. Hard rules (service, capacity, readiness, exclusions...) are not
# weights and cannot be tuned here.
PEER_MATCHING_WEIGHTS = {
    "lived_experience": 0.4,  # shares lived experience of the person's needs
    "area": 0.25,  # covers their postcode district (full) or postcode area (half)
    "availability": 0.15,  # free at the times they are
    "interests": 0.1,  # shared interests
    "load": 0.1,  # more free places: spreads the work
}

# Readiness of peer supporters (peer_support/readiness.py). A supporter who fails any of these
# is paused by the daily "Pause supporters who are not ready" schedule and cannot be matched.
PEER_DBS_VALID_DAYS = 1095  # a DBS check counts for 3 years from its date, then is lapsed
PEER_SUPERVISION_INTERVAL_DAYS = 56  # supervision at least every 8 weeks, else overdue
PEER_REQUIRED_TRAINING = [  # module codes every supporter must have completed
    "safeguarding",
    "boundaries",
    "data_protection",
    "lived_experience_sharing",
]
# How long a supporter has to accept an offered match before it goes to the next person.
PEER_OFFER_DEADLINE_HOURS = 48

# `seed_demo` also fills the peer support pages (~40 supporters, ~300 referrals). The test
# settings turn it off, because many tests seed the demo site only for its pages and
# accounts; the tests of the peer support demo data turn it back on.
DEMO_PEER_SUPPORT = True

# --- Email (editors' notices, password resets) -------------------------------------------------

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("DJANGO_EMAIL_HOST", "").strip()
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "").strip() or "localhost"
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "portal@localhost")

# --- SMS ------------------------------------------------------------------------------------

# Words no text message may contain (portal/sensitive.py): a shared phone must not reveal
# health or justice contact. Checked in appointment place labels and message templates.
SMS_SENSITIVE_WORDS = [
    "police",
    "court",
    "custody",
    "custodial",
    "mental",
    "mentally",
    "psychiatric",
    "psychiatrist",
    "psychiatry",
    "drug",
    "alcohol",
    "alcoholic",
    "addict",
    "addiction",
    "detox",
    "methadone",
    "rehab",
    "probation",
    "offence",
    "offense",
    "offender",
    "offending",
    "arrest",
    "arrested",
    "section",
    "sectioned",
    "prison",
    "prisoner",
    "convicted",
    "conviction",
    "bail",
    "remand",
    "crime",
    "criminal",
    "magistrate",
    "solicitor",
    "liaison",
    "diversion",
]

SMS_BACKEND = os.environ.get("SMS_BACKEND", "console").strip().lower()
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "").strip()
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "").strip()
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").strip()
# Read timeout for one call to Twilio: a send that times out is reconciled, never resent blind.
TWILIO_HTTP_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_HTTP_TIMEOUT_SECONDS", "10"))

# Reminders (notifications/schedule.py). Slots: calendar days before (same clock time in UK
# time), plus real hours before; ``cutoff_minutes`` is how close to the appointment a slot is
# still worth sending. Each appointment kind lists its slots; "default" covers the rest.
REMINDER_SLOTS = {
    "3d": {"days": 3, "hours": 0, "cutoff_minutes": 36 * 60},
    "1d": {"days": 1, "hours": 0, "cutoff_minutes": 4 * 60},
    "2h": {"days": 0, "hours": 2, "cutoff_minutes": 30},
}
REMINDER_SCHEDULE = {"default": ["3d", "1d", "2h"]}
# No text is sent between these local times: 21:00 to 08:00.
SMS_QUIET_HOURS = (time(21, 0), time(8, 0))
# Never more than this many calls to the provider in one second (0: no limit). Counted in Redis
# across every worker; without Redis each worker process counts alone and gets its share.
SMS_MAX_PER_SECOND = int(os.environ.get("SMS_MAX_PER_SECOND", "30"))
# While a batch is being sent, the rows not yet sent are checked again this often (seconds).
SMS_RECHECK_SECONDS = float(os.environ.get("SMS_RECHECK_SECONDS", "1"))
# Ids per send task, and retries of temporary failures (backoff doubles up to the maximum).
SMS_DISPATCH_BATCH = int(os.environ.get("SMS_DISPATCH_BATCH", "50"))
SMS_MAX_ATTEMPTS = 5
SMS_RETRY_BASE_SECONDS = 30
SMS_RETRY_MAX_SECONDS = 30 * 60
# A claimed send older than this is asked about at the provider (longer than the task
# timeout, so the sender is certainly gone); a queued row older than this is queued again.
SMS_CLAIM_STALE_SECONDS = int(os.environ.get("SMS_CLAIM_STALE_SECONDS", "90"))
SMS_QUEUED_STALE_SECONDS = int(os.environ.get("SMS_QUEUED_STALE_SECONDS", "300"))
# Staff are alerted about a text still not sent this long after it was due.
SMS_STUCK_ALERT_MINUTES = 15
# The number in a HELP reply to someone the portal does not know.
SMS_FALLBACK_HELP_PHONE = os.environ.get("SMS_FALLBACK_HELP_PHONE", "111")

# --- Security -------------------------------------------------------------------------------

# Messages ride in their own signed cookie, so reading them on a public page does not touch
# the session (which would mark every page "Vary: Cookie" and defeat the page cache).
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# TLS settings follow the public address: a portal published on https gets secure cookies,
# HSTS and a redirect to https; a local http one (development, the test suite) does not.
SESSION_COOKIE_SECURE = PUBLIC_BASE_URL_IS_HTTPS
CSRF_COOKIE_SECURE = PUBLIC_BASE_URL_IS_HTTPS
SECURE_SSL_REDIRECT = PUBLIC_BASE_URL_IS_HTTPS and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if PUBLIC_BASE_URL_IS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PUBLIC_BASE_URL_IS_HTTPS
SECURE_HSTS_PRELOAD = PUBLIC_BASE_URL_IS_HTTPS
if env_bool("DJANGO_BEHIND_TLS_PROXY"):
    # Only behind a proxy that always sets this header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp). Public and portal pages: scripts only from this site
# and with the per-request nonce, no inline scripts or styles, never framed. The NHS.UK
# stylesheet loads its web font from the NHS's own asset host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "https://assets.nhs.uk"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
# The Wagtail and Django admins (paths below) get a looser policy, because their own
# JavaScript uses inline scripts and styles, and Wagtail's preview frames the site's pages
# inside the admin. Staff reach them only after signing in with an authenticator app.
PORTAL_ADMIN_PATH_PREFIXES = ("/admin/", "/django-admin/")
PORTAL_ADMIN_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF, UNSAFE_INLINE, UNSAFE_EVAL],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "data:", "blob:"],
    "font-src": [SELF, "data:", "https://assets.nhs.uk"],
    "connect-src": [SELF],
    "frame-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [SELF],
    "base-uri": [SELF],
    "object-src": [NONE],
}

SILENCED_SYSTEM_CHECKS: list[str] = []

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        # Confirm-link tokens (/a/<token>/) are keys to an appointment's details.
        "hide_link_tokens": {"()": "notifications.logfilters.HideLinkTokens"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["hide_link_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "portal": {"level": LOG_LEVEL},
        "peer_support": {"level": LOG_LEVEL},
        "notifications": {"level": LOG_LEVEL},
        "content": {"level": LOG_LEVEL},
        "django-q": {"level": "INFO"},
    },
}

# --- Refusal --------------------------------------------------------------------------------


def refuse_insecure_production(
    *, debug: bool, secret_key: str, allowed_hosts: list[str], sms_backend: str
) -> None:
    """Fail start-up loudly rather than run production on development defaults."""
    problems: list[str] = []
    if not debug:
        if (
            not secret_key
            or secret_key == DEVELOPMENT_SECRET_KEY
            or secret_key.startswith("django-insecure")
            or len(secret_key) < 50
            or len(set(secret_key)) < 5
        ):
            problems.append(
                "DJANGO_SECRET_KEY must be set to a long random value (50+ characters) "
                "when DJANGO_DEBUG is off"
            )
        if not allowed_hosts:
            problems.append("DJANGO_ALLOWED_HOSTS must list this site's host names")
    if sms_backend not in {"console", "memory", "twilio"}:
        problems.append(f"SMS_BACKEND must be console, memory or twilio, not {sms_backend!r}")
    if sms_backend == "twilio":
        if not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN):
            problems.append("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER):
            problems.append(
                "SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"
            )
    if problems:
        raise ImproperlyConfigured("Refusing to start: " + "; ".join(problems) + ".")


refuse_insecure_production(
    debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS, sms_backend=SMS_BACKEND
)

# --- Wagtail --------------------------------------------------------------------------------

WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Wagtail's own background work (reference index, file clean-up) runs in the request.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "odt", "txt"]
# An edit made while a page is in review needs the review again: a reviewer approves what
# they read, not a later revision.
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
# Approval publishes the approved revision (content/workflows.py), not whatever is latest.
WAGTAIL_FINISH_WORKFLOW_ACTION = "content.workflows.publish_approved_revision"
WAGTAILSEARCH_HITS_MAX_AGE = 14
