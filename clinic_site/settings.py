"""Settings for the clinic site: one module, configured by environment variables.

DEBUG is off unless DEBUG=true is set: the local demo (`make run`) and the test suite
(`make test`) set it. With DEBUG off, SECRET_KEY and ALLOWED_HOSTS must be set, and
the database must be PostgreSQL (DATABASE_URL) unless ALLOW_SQLITE=true, or start-up
stops with a clear message. So a cron job or shell started without the production
environment fails at once instead of quietly using an empty SQLite file. Every
variable is listed in .env.example.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    """The environment variable's value; `default` when it is unset or blank (a line
    such as `STATIC_ROOT=` in the env file means "not set", never "here")."""
    return os.environ.get(name, "").strip() or default


def env_bool(name, default):
    value = env(name, str(default)).lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
else:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env(name)]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so {' and '.join(missing)} must be set in the environment. "
            "See .env.example."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "django_tasks",
    "django_tasks_db",
    "education",
    "appointments",
    "accounts",
    "operations",
    "clinic_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # After the HTTPS redirect, before everything else: a cached public page is
    # served as stored (compressed, with its headers) without sessions, users or
    # the database.
    "clinic_site.cache.PublicPageCacheMiddleware",
    # Django's gzip, with its random padding against BREACH (pages echo search
    # text and show patient data in the admin). Static files come already compressed
    # from whitenoise (Brotli and gzip).
    "django.middleware.gzip.GZipMiddleware",
    "clinic_site.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language, from its address (/es/...): before URLs are resolved.
    "clinic_site.middleware.UrlLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff who have not typed their two-factor code reach no admin page (needs
    # request.user.is_verified() from the line above).
    "accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: it refuses logins from locked-out clients.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "clinic_site.urls"
WSGI_APPLICATION = "clinic_site.wsgi.application"

TEMPLATES = [
    # What patients see (templates/): Jinja2, set up in clinic_site/jinja2.py. It gets
    # `request`, `csrf_input` and `csrf_token` from Django's backend. First, so
    # admin/lockout.html (django-axes) is the site's page.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "clinic_site.jinja2.environment",
            "context_processors": ["education.context_processors.clinic"],
        },
    },
    # The admin, the staff two-factor pages and crispy-forms' field templates: Django
    # templates, from the apps' own templates/ folders only (no DIRS), so neither engine
    # can load the other's files.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: SQLite in the project folder unless DATABASE_URL says otherwise
# (postgres://user:password@host:5432/name for production).
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait for the lock (IMMEDIATE + busy timeout) instead of
    # failing with "database is locked"; WAL lets readers run while one writes.
    # Connections persist like PostgreSQL's (DB_CONN_MAX_AGE): reopening one per
    # request doubled the time of a form POST in the benchmark.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

if (
    not DEBUG
    and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    and not env_bool("ALLOW_SQLITE", False)
):
    raise ImproperlyConfigured(
        "DEBUG is off but DATABASE_URL is not set (or points to SQLite): production "
        "uses PostgreSQL. Load the production environment file, or set "
        "ALLOW_SQLITE=true for a single-machine site on SQLite. See .env.example."
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches. "pages" holds rendered public pages (clinic_site/cache.py) and the clinic's
# settings. Without REDIS_URL: a folder on disk, so every worker on the server shares it
# and one content change empties it for all. With REDIS_URL (several app hosts): Redis,
# under its own key prefix, so a change made through any host empties it for every
# host; it fails open (clinic_site/cache_backends.py). "default" holds nothing shared.
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env("PAGE_CACHE_DIR", str(BASE_DIR / ".cache" / "pages")),
        "TIMEOUT": 24 * 60 * 60,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}
PAGE_CACHE_KEY_PREFIX = env("PAGE_CACHE_KEY_PREFIX", "clinic-pages")
if not PAGE_CACHE_KEY_PREFIX.replace("-", "").replace("_", "").isalnum():
    # clear() deletes the keys matching "PREFIX:*": no pattern characters in it.
    raise ImproperlyConfigured("PAGE_CACHE_KEY_PREFIX: use letters, digits, - and _ only.")
if REDIS_URL:
    CACHES["pages"] = {
        "BACKEND": "clinic_site.cache_backends.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": PAGE_CACHE_KEY_PREFIX,
        # An hour, not a day: if Redis was unreachable when content changed (so it could
        # not be emptied), it serves the older pages for at most this long once it is back.
        "TIMEOUT": 60 * 60,
        # A Redis that does not answer within half a second counts as down for that call.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
# The pages kept in it: the same for every anonymous reader (no form, nothing
# personal). Any change to these apps' content empties it.
PUBLIC_PAGES = [
    "education:home",
    "education:procedure_list",
    "education:procedure_detail",
    "education:guide_part",
    "education:guide_all",
    "education:handout",
    "education:tool",
    "education:glossary",
    "education:language_help",
]
PAGE_CACHE_PURGE_APPS = ["education"]
# How long a proxy in front (deploy/nginx/clinic.conf) may keep those pages for
# anonymous readers (Cache-Control s-maxage): an approved edit shows within this.
PROXY_CACHE_SECONDS = int(env("PROXY_CACHE_SECONDS", "2"))
# PAGE_CACHE=off renders every page afresh (for measuring the uncached site).
if not env_bool("PAGE_CACHE", True):
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time. English at the site's addresses, Spanish under /es/
# (clinic_site/urls.py, clinic_site.middleware.UrlLanguageMiddleware); the patients'
# messages are in locale/ (README, "Translations"). Staff pages are English.
LANGUAGE_CODE = "en"
# Each named in its own language, as the language switch shows it.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", "America/New_York")
USE_TZ = True

# Static files and uploads.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Uploaded pictures (education/images.py). By default on this host's disk in MEDIA_ROOT,
# served at MEDIA_URL by the web server in front (deploy/'s nginx site; Django serves them
# itself only with DEBUG on). With AWS_STORAGE_BUCKET_NAME set: S3-compatible object
# storage through django-storages, so every app host sees every upload. The names are
# django-storages' own settings; the keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or
# an instance role) are read from the environment by django-storages and boto3
# themselves, so no secret is kept in these settings.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Where pictures come from when that is another host (for the CSP's img-src below).
MEDIA_ORIGIN = ""
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    s3_endpoint = env("AWS_S3_ENDPOINT_URL")  # empty: Amazon S3 itself
    s3_region = env("AWS_S3_REGION_NAME")
    # Picture URLs must work for as long as a cached page shows them: plain public URLs
    # (the bucket readable by everyone, or a CDN in front), never signed ones that expire.
    s3_options = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "querystring_auth": False,
        "location": env("AWS_LOCATION"),
        # For a bucket that uses ACLs ("public-read"); empty: the bucket policy decides.
        "default_acl": env("AWS_DEFAULT_ACL") or None,
        # Names are content hashes (a new picture gets a new name): cache for a year.
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        "region_name": s3_region or None,
        "endpoint_url": s3_endpoint or None,
        "url_protocol": env("AWS_S3_URL_PROTOCOL", "https:"),
    }
    # URLs from a fixed host, so the CSP can name it: the CDN or custom domain; else an
    # S3-compatible service's own address, bucket in the path; else Amazon's address
    # for the bucket.
    s3_domain = env("AWS_S3_CUSTOM_DOMAIN")
    if not s3_domain and s3_endpoint:
        s3_options["addressing_style"] = "path"
        MEDIA_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(s3_endpoint))
    elif not s3_domain:
        s3_domain = f"{AWS_STORAGE_BUCKET_NAME}.s3.{s3_region or 'us-east-1'}.amazonaws.com"
    if s3_domain:
        s3_options["custom_domain"] = s3_domain
        MEDIA_ORIGIN = f"{s3_options['url_protocol']}//{s3_domain.split('/')[0]}"
    MEDIA_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Local runs (DEBUG on) serve static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Forms.
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background tasks (django-tasks): stored in the database and run by
# `manage.py db_worker`. Tests use the immediate backend.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# The clinic, until an editor saves the clinic settings in the admin; the 500 page
# (which must not touch the database) always uses these.
CLINIC_NAME = env("CLINIC_NAME", "Our pain clinic")
CLINIC_PHONE = env("CLINIC_PHONE")

# Appointment requests.
PHONENUMBER_DEFAULT_REGION = env("PHONE_REGION", "US")
# Where new-request notifications go (an inbox the front desk reads).
FRONT_DESK_EMAIL = env("FRONT_DESK_EMAIL", "frontdesk@clinic.example")
# The site's public address, for links in staff emails.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Response targets (appointments/business_days.py): how soon the front desk reaches
# a patient, counted in clinic hours only. Urgent: a safety answer was yes.
RESPONSE_TARGET_URGENT_BUSINESS_HOURS = int(env("RESPONSE_TARGET_URGENT_BUSINESS_HOURS", "2"))
RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS = int(env("RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS", "1"))
# Clinic days and hours (TIME_ZONE), and whose public holidays close it (the `holidays`
# library: a country code and optionally a state, e.g. "US" and "NY"). Staff add the
# clinic's own closure days in the admin. CLINIC_DAYS: weekday names, e.g. "Mon-Fri" or
# "Mon,Tue,Wed,Thu,Fri,Sat".
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def weekdays(text):
    """ "Mon-Fri" or "Mon,Wed,Fri" -> [0, 2, 4] (Monday is 0, as date.weekday() says)."""
    days = set()
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ImproperlyConfigured(
                f"CLINIC_DAYS: use weekday names like Mon-Fri, not {part!r}."
            )
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(start, end + 1))
    return sorted(days)


CLINIC_DAYS = weekdays(env("CLINIC_DAYS", "Mon-Fri"))
CLINIC_OPENS = env("CLINIC_OPENS", "08:00")
CLINIC_CLOSES = env("CLINIC_CLOSES", "17:00")
CLINIC_HOLIDAYS_COUNTRY = env("CLINIC_HOLIDAYS_COUNTRY", "US")
CLINIC_HOLIDAYS_SUBDIVISION = env("CLINIC_HOLIDAYS_SUBDIVISION", "")
# After an urgent call that did not reach the patient, try again this much later
# (within clinic hours: later the same day when the clinic is still open).
URGENT_RETRY_MINUTES = int(env("URGENT_RETRY_MINUTES", "60"))
# The printable call sheet lists at most this many requests (the list's first ones).
CALL_SHEET_MAX_ROWS = 200
# Spam trap: a form sent sooner than this after it was shown is treated as a bot.
REQUEST_MIN_FILL_SECONDS = 3
# A form left open longer than this asks the patient to press Send again.
REQUEST_FORM_MAX_AGE_HOURS = 72
# Front-desk email: `manage.py retry_notifications` (cron) retries a failed one up to
# this many attempts, and re-queues one still waiting after this many minutes.
NOTIFICATION_MAX_ATTEMPTS = 5
NOTIFICATION_STUCK_MINUTES = 30

# Email.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "website@clinic.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content Security Policy: only this site's own files, no inline script or style,
# no frames, forms post only here. (django-csp; see csp.constants.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Security. Production (DEBUG off) is served over HTTPS only.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Powerful browser features this site never uses, switched off for every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Monitors may ask the app server directly, over plain http.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    # Both bind every subdomain of the clinic's domain to HTTPS for a long time (the
    # browsers' preload list is slow to leave): opt-in, for whoever runs the domain.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # `check --deploy` would warn that both are off: they are off on purpose (above).
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "filters": {"withhold_messages": {"()": "clinic_site.logging.WithholdExceptionMessages"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["withhold_messages"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # Replaces Django's default handlers, including the admin error emails, which
    # would carry the submitted form.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Abuse limits: public form rate limits and the admin login lockout (django-axes).
# Each public form takes this many sends per client address per window; more get the
# "too many tries" page (HTTP 429). Counted in the database (appointments/ratelimit.py),
# which stores a keyed hash of the address, never the address.
REQUEST_RATE_LIMIT = int(env("REQUEST_RATE_LIMIT", "10"))
REQUEST_RATE_LIMIT_WINDOW_MINUTES = int(env("REQUEST_RATE_LIMIT_WINDOW_MINUTES", "60"))
# Proxies in front of the site that add to X-Forwarded-For (0: none, so the header is
# ignored). The client is the right-most address those proxies did not write.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Larger request bodies get HTTP 400. The public forms send about 2 KB; the biggest
# admin page (a full procedure with its inlines) about 35 KB and 700 fields. Uploaded
# pictures do not count (FILE_UPLOAD_MAX_MEMORY_SIZE governs those).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Staff sign-in lockout (django-axes). How axes counts (axes/handlers/database.py): each
# wrong password adds one to a row for (user name, address, browser). For each entry of
# AXES_LOCKOUT_PARAMETERS, axes adds up the failures within the cool-off of every row
# that matches this request on that entry's fields; the largest sum is compared with
# AXES_FAILURE_LIMIT. So each entry is a lock of its own, any one of them locks (even
# the right password is refused), and all share one limit:
#   "username"    one user name, from any address: a guesser with many addresses;
#   "ip_address"  one address, for any user name: one guesser trying many accounts.
# The address is `appointments.ratelimit.client_network`, the form rate limit's rule:
# an IPv4 address alone, an IPv6 address with its whole /64.
# One limit for both. The user name lock is the only brake on a guesser with many
# addresses, so it stays at 5. The price is paid by an office whose staff share one
# address (NAT): once one person gets their password wrong 5 times, the whole office
# waits too. Two things keep that rare: with AXES_RESET_ON_SUCCESS, a right password
# deletes every row matching either entry, so any successful sign-in from the office
# clears the office's count (only 5 failures in a row pause it); and a superuser can
# end a pause at once (`manage.py axes_reset_ip ADDRESS` or `axes_reset_username NAME`).
# A higher shared limit would weaken every account to spare an office a rare wait.
# The reset also means someone who knows one staff password can clear their address's
# count by signing in; each such sign-in is in axes' access log, and with two-step
# sign-in a guessed password alone opens nothing.
# Tries while locked out are neither counted nor restart the wait (below).
# Attempts are kept in the database only for the cool-off; successful sign-ins (user
# name, address, browser) are kept in axes' access log for the security audit (clear
# old ones with `manage.py axes_reset_logs --age <days>`).
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = int(env("AXES_COOLOFF_MINUTES", "15")) / 60  # hours, as axes reads a float
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Tries while locked out do not restart the wait, so "wait 15 minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "appointments.ratelimit.client_network"
AXES_USERNAME_CALLABLE = "appointments.ratelimit.login_username"
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 100

# Staff sign-in: two-factor (django-otp) and session lifetime.
# With STAFF_TWO_FACTOR_REQUIRED on, staff type a 6-digit code from an authenticator app
# (TOTP), or one of their backup codes (otp_static), after their password before any
# admin page opens (accounts.middleware). Unset or empty: on when DEBUG is off, off in
# the local demo.
STAFF_TWO_FACTOR_REQUIRED = env_bool("STAFF_TWO_FACTOR_REQUIRED", not DEBUG)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = CLINIC_NAME
# The TOTP device admin never shows a secret key again: a reset means a new set-up.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Staff add their authenticator app only through a set-up link a superuser makes (the
# user's page in the admin, or `manage.py enrolment_link USERNAME`). It works once, for
# that person only, for this many hours.
STAFF_ENROLMENT_LINK_HOURS = int(env("STAFF_ENROLMENT_LINK_HOURS", "72"))
# A staff session ends after SESSION_IDLE_MINUTES without a request (each request
# restarts the clock) and when the browser closes. Public pages make no session.
SESSION_COOKIE_AGE = 60 * int(env("SESSION_IDLE_MINUTES", "30"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Data safety: retention of closed requests and backups.
# `manage.py purge_requests` deletes a closed request, with its call log and history,
# once nothing has happened to it for this many days.
REQUEST_RETENTION_DAYS = int(env("REQUEST_RETENTION_DAYS", "90"))
# Where `manage.py backup` writes (keep it on an encrypted disk: backups hold health data).
BACKUP_DIR = Path(env("BACKUP_DIR", str(BASE_DIR / "backups")))
