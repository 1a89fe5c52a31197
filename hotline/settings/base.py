"""Settings shared by every environment; every value that differs comes from the environment.

Read top to bottom, each setting is defined once: Django, the hotline's rules, Celery (its
whole beat schedule in one dict), the REST API, intake, privacy, security, logging. README's
"Settings" table lists each variable read here.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# The embedded default's files (SQLite database, broker, beat schedule, demo logins).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# --- Django ------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc served from our static files, no CDN
    "django_htmx",
    "django_otp",  # its devices are ours (operators.models): the secret encrypted, backup codes hashed
    "axes",
    "csp",
    "operators",
    "hotline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # every response, error pages included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp after authentication (sets user.is_verified()); our session rules and the
    # second-factor gate before LoginRequiredMiddleware (it answers htmx with a client redirect).
    "django_otp.middleware.OTPMiddleware",
    "operators.middleware.SessionLimitsMiddleware",
    "operators.middleware.SecondFactorMiddleware",
    # Deny by default: every view needs a login unless it says otherwise (intake endpoints).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After authentication: the operator's own interface language and time zone.
    "operators.middleware.OperatorPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 429 page
]

ROOT_URLCONF = "hotline.urls"
WSGI_APPLICATION = "hotline.wsgi.application"

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
                "hotline.desk.context_processors.desk",
                "operators.context_processors.signin",
            ],
        },
    },
]

# SQLite by default so a bare machine runs the product; DATABASE_URL switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hotline.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one file: take the write lock up front and wait
    # for it instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Kyiv")
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in the operator's zone

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Media from contacts, encrypted before it gets here (hotline/privacy/files.py). Any Django
    # storage backend works, e.g. django-storages' S3 (docs/deploy.md, "Media storage").
    "media": {
        "BACKEND": env.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={"location": str(VAR_DIR / "media")}),
    },
}

# --- the hotline's own rules ------------------------------------------------------------
SLA_HOURS = env.float("SLA_HOURS", default=24)
SLA_WARNING_HOURS = env.float("SLA_WARNING_HOURS", default=20)
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=60)
# What a new request from a contact whose last case is closed does: "reopen" it or open "new".
CASE_NEW_REQUEST_ON_CLOSED = env.str("CASE_NEW_REQUEST_ON_CLOSED", default="reopen")
# One visit of a case page is one read in the audit, however often the page is shown again
# within this many minutes (after each action, on reload) by the same person.
CASE_VIEW_VISIT_MINUTES = env.int("CASE_VIEW_VISIT_MINUTES", default=30)
# Key of the keyed hash that finds a contact by identifier without storing it in clear.
CONTACT_LOOKUP_KEY = env.str("CONTACT_LOOKUP_KEY", default="")
# Give each new or waiting case to an on-shift operator who speaks its language (hotline/desk/ownership.py).
AUTO_ASSIGN = env.bool("AUTO_ASSIGN", default=True)
AUTO_ASSIGN_SWEEP_SECONDS = env.float("AUTO_ASSIGN_SWEEP_SECONDS", default=60)
# The ledger of case counts (hotline/dashboard/case_counts.py) is folded this often: the
# dashboard reads as many rows as changes since.
CASE_COUNTS_COMPACT_SECONDS = env.float("CASE_COUNTS_COMPACT_SECONDS", default=300)
# The header's counts (overdue, at risk, unassigned, notices) are cached per person this long,
# and the dashboard's waiting figures for everyone: a badge or a "now" figure may lag by as much;
# 0 counts on every page (hotline/desk/context_processors.py, hotline/dashboard/metrics.py).
HEADER_COUNTS_CACHE_SECONDS = env.float("HEADER_COUNTS_CACHE_SECONDS", default=15)
# The dashboard's response figures for a period of at most this many cases are computed exactly
# from the cases; larger periods read the rollups (hotline/dashboard/rollups.py).
DASHBOARD_EXACT_MAX_CASES = env.int("DASHBOARD_EXACT_MAX_CASES", default=20000)

# --- intake: Telegram bot and REST intake API (docs/telegram.md) -----------------------------
# The bot's token from BotFather; empty = no bot: outbound Telegram messages fail with a reason.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
# Telegram sends it in X-Telegram-Bot-Api-Secret-Token; empty = the webhook refuses everything.
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
# A chat (e.g. a private supervisors' group) told once per SLA sweep that flagged cases.
TELEGRAM_SUPERVISORS_CHAT_ID = env.str("TELEGRAM_SUPERVISORS_CHAT_ID", default="")
TELEGRAM_TIMEOUT_SECONDS = env.float("TELEGRAM_TIMEOUT_SECONDS", default=10)
TELEGRAM_DELIVERY_MAX_ATTEMPTS = env.int("TELEGRAM_DELIVERY_MAX_ATTEMPTS", default=12)
TELEGRAM_RETRY_BASE_SECONDS = env.float("TELEGRAM_RETRY_BASE_SECONDS", default=2)
TELEGRAM_RETRY_MAX_SECONDS = env.float("TELEGRAM_RETRY_MAX_SECONDS", default=600)
# update_id may restart after a week without updates: dedupe rows older than this are pruned.
TELEGRAM_UPDATE_RETENTION_DAYS = env.int("TELEGRAM_UPDATE_RETENTION_DAYS", default=7)
TELEGRAM_MAX_UPDATE_BYTES = env.int("TELEGRAM_MAX_UPDATE_BYTES", default=1024 * 1024)
# Media (issue 15): the Bot API's getFile downloads at most 20 MB; bigger files keep their
# details only. Fetches are retried like deliveries, up to this many attempts.
TELEGRAM_DOWNLOAD_MAX_BYTES = env.int("TELEGRAM_DOWNLOAD_MAX_BYTES", default=20 * 1024 * 1024)
MEDIA_FETCH_MAX_ATTEMPTS = env.int("MEDIA_FETCH_MAX_ATTEMPTS", default=12)
# What an operator may send: Telegram takes photos up to 10 MB (sendPhoto) and documents up
# to 50 MB (sendDocument); the desk keeps documents to the size it can fetch back.
MEDIA_SEND_PHOTO_MAX_BYTES = env.int("MEDIA_SEND_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
MEDIA_SEND_DOCUMENT_MAX_BYTES = env.int("MEDIA_SEND_DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)
# An upload's body may take this long to arrive (other bodies: REQUEST_BODY_TIMEOUT_SECONDS).
MEDIA_UPLOAD_TIMEOUT_SECONDS = env.float("MEDIA_UPLOAD_TIMEOUT_SECONDS", default=120)
# Sent when a request opens (or reopens) a case; never counts as a human answer.
TELEGRAM_ACK_TEXT = env.str(
    "TELEGRAM_ACK_TEXT",
    default=(
        "Здравствуйте! Ваше сообщение получено. Оператор ответит вам лично как можно скорее. "
        "Этот разговор видят только операторы горячей линии."
    ),
)
TELEGRAM_TRIAGE_ENABLED = env.bool("TELEGRAM_TRIAGE_ENABLED", default=True)
TELEGRAM_TRIAGE_THANKS = env.str("TELEGRAM_TRIAGE_THANKS", default="Спасибо, ответ записан.")
# Asked one at a time with inline buttons after the acknowledgement; answers go to Case.triage.
# Keys and answer codes are short ASCII (callback data is at most 64 bytes).
TELEGRAM_TRIAGE_QUESTIONS: list[dict] = [
    {"key": "mobilised", "text": "Вы уже мобилизованы?",
     "answers": [["yes", "Да"], ["no", "Нет"], ["soon", "Ждёт повестки"]]},
    {"key": "where", "text": "Где вы сейчас?",
     "answers": [["front", "На фронте"], ["training", "На полигоне / в учебке"], ["russia", "В России, дома"],
                 ["other", "Другое"]]},
    {"key": "equipment", "text": "Планируете прийти с техникой?",
     "answers": [["yes", "Да"], ["no", "Нет"], ["unsure", "Пока не знаю"]]},
]
# The webhook stores each update and wakes a worker to apply it (hotline/intake/telegram/inbox.py):
# at most one wake-up per window across web processes; a periodic drain as the safety net;
# supervisors are warned when the oldest stored update has waited longer than LATE.
TELEGRAM_INBOX_WINDOW_SECONDS = env.int("TELEGRAM_INBOX_WINDOW_SECONDS", default=1)
TELEGRAM_INBOX_SWEEP_SECONDS = env.float("TELEGRAM_INBOX_SWEEP_SECONDS", default=10)
TELEGRAM_INBOX_LATE_SECONDS = env.float("TELEGRAM_INBOX_LATE_SECONDS", default=60)
# Intake floods: requests per Telegram user per minute before the bot's own side effects
# (acknowledgement, triage questions, button answers) stop; every request is still stored.
TELEGRAM_USER_RATE_PER_MINUTE = env.int("TELEGRAM_USER_RATE_PER_MINUTE", default=20)
# REST intake: per-token rate ("N/second|minute|hour|day") and largest accepted body.
API_INTAKE_RATE = env.str("API_INTAKE_RATE", default="120/minute")
API_INTAKE_MAX_BYTES = env.int("API_INTAKE_MAX_BYTES", default=64 * 1024)
# Requests with an unknown or revoked API token per client address; 429 for the address above it.
API_INVALID_TOKEN_RATE = env.str("API_INVALID_TOKEN_RATE", default="20/minute")
# Every request body is read whole before Django sees it, within this many seconds (408 after),
# by the WSGI wrapper in hotline/intake/bodies.py; a body without Content-Length gets 411.
REQUEST_BODY_TIMEOUT_SECONDS = env.float("REQUEST_BODY_TIMEOUT_SECONDS", default=5)

# --- delivery: outbound messages (hotline/delivery/outbound.py) ------------------------------
# A sender's claim on a message expires after DELIVERY_CLAIM_SECONDS (longer than one
# sendMessage can take: connect + write + read timeouts).
DELIVERY_CLAIM_SECONDS = env.float("DELIVERY_CLAIM_SECONDS", default=120)
# Messages still queued this long after they were due are queued again (their task was lost).
DELIVERY_RECOVER_AFTER_SECONDS = env.float("DELIVERY_RECOVER_AFTER_SECONDS", default=120)
DELIVERY_RECOVER_SWEEP_SECONDS = env.float("DELIVERY_RECOVER_SWEEP_SECONDS", default=60)

# --- privacy: encryption at rest and retention (hotline/privacy/, docs/notes/privacy.md) -----
# Fernet keys for personal data at rest; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEY", default=[])
# Days after a case closed (or surrendered) before its personal data is erased; figures stay.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)

# --- Redis: the broker and the shared cache (rate limits, lockouts, OTP counters) -------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2)
# Redis redelivers a task not acknowledged within the visibility timeout: it must exceed the
# longest countdown we schedule (TELEGRAM_RETRY_MAX_SECONDS) plus a task's run time, or a
# waiting retry would run twice. Socket timeouts keep a publish from hanging on a dead host.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3),
    "socket_keepalive": True,
}
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = REDIS_TRANSPORT_OPTIONS
    # Several web processes share the counts; the cache must not hang either (the API fails
    # open when it is unreachable).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT, "socket_timeout": 2},
        },
    }
else:
    # Embedded broker: messages are files under var/broker; worker and beat need no server.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        # kombu's default is ./control, which left exchange tables in the working tree.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    # The one-process embedded default: per-process memory.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hotline"}}
# Live pages' versions (hotline/desk/live.py): written by web processes and workers alike, so
# they share Redis when there is one, else files under var/ (the embedded default's web
# process and worker are two processes on one host).
CACHES["live"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "hotline",
     "OPTIONS": {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT, "socket_timeout": 2}}
    if REDIS_URL else
    {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "live")}
)

# --- Celery: tasks (hotline/tasks.py, queued by name through hotline/queueing.py) ---------------
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The whole periodic schedule: run exactly one beat. Every entry expires after its period, so a
# backlog never runs a sweep twice in a row.
_PERIODIC = {
    # The 24-hour promise: flag every case waiting too long.
    "sla-sweep": ("sla_sweep_task", SLA_SWEEP_SECONDS),
    # The safety net of auto-assignment: waiting cases a lost or skipped task left behind.
    "auto-assign-sweep": ("auto_assign_sweep_task", AUTO_ASSIGN_SWEEP_SECONDS),
    # Fold the dashboard's ledger of case counts.
    "case-counts-compact": ("case_counts_compact_task", CASE_COUNTS_COMPACT_SECONDS),
    # Stored Telegram updates whose wake-up was lost.
    "telegram-process-updates": ("telegram_process_updates_task", TELEGRAM_INBOX_SWEEP_SECONDS),
    # Forget old update ids (Telegram may reuse them after a week without updates).
    "telegram-prune-updates": ("telegram_prune_updates_task", 3600),
    # Personal data past RETENTION_DAYS (daily; a run expires after an hour).
    "retention": ("retention_task", 86400),
    # Outbound messages whose task was lost.
    "delivery-recover": ("delivery_recover_task", DELIVERY_RECOVER_SWEEP_SECONDS),
    # Media whose fetch task was lost (hotline/intake/telegram/media.py).
    "media-recover": ("media_recover_task", DELIVERY_RECOVER_SWEEP_SECONDS),
}
CELERY_BEAT_SCHEDULE = {
    name: {
        "task": f"hotline.tasks.{task}",
        "schedule": timedelta(seconds=seconds),
        "options": {"expires": min(seconds, 3600)},
    }
    for name, (task, seconds) in _PERIODIC.items()
}
# The periodic sweeps have a queue of their own, so a backlog of deliveries (after an outage,
# or a slow Telegram) never delays the overdue flagging or makes its runs expire unseen.
# Applying stored Telegram updates has its own queue too: new requests reach the desk even
# behind a backlog of deliveries or a long sweep. Workers consume every queue unless given -Q.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("periodic", Exchange("celery"), routing_key="periodic"),
    Queue("intake", Exchange("celery"), routing_key="intake"),
)
CELERY_TASK_ROUTES = {
    **{entry["task"]: {"queue": "periodic"} for entry in CELERY_BEAT_SCHEDULE.values()},
    "hotline.tasks.telegram_process_updates_task": {"queue": "intake"},
}
# Publishing after commit (hotline/queueing.py): a few quick tries, then give up and leave the
# work to the sweeps, so a webhook answers within about a second even with Redis down.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
# Workers and beat wait for the broker as long as it takes (at start and after a loss).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the broker connection drops finishes (our tasks are idempotent; its
# late ack is lost, so Redis hands it out again after the visibility timeout and it does
# nothing). Cancelling it could interrupt a sendMessage Telegram already accepted.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The pages' session, with the same second-factor rule (operators/api_auth.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["operators.api_auth.VerifiedSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hotline Desk API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Intake API: integrations submit requests with an API token (see docs/telegram.md).",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- security: second factor, lockout, sessions, headers (SECURITY.md) -------------------------
# Staff log in with a TOTP code after the password. Only hotline/settings/local.py may relax it.
OTP_REQUIRED = True
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Hotline Desk")
OTP_MAX_FAILURES = env.int("OTP_MAX_FAILURES", default=5)  # wrong codes before the OTP step locks
OTP_LOCKOUT_MINUTES = env.int("OTP_LOCKOUT_MINUTES", default=15)
OTP_BACKUP_CODES = 10
# Our own counter above replaces django-otp's exponential delay (a delay looks like a wrong code).
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Password step: django-axes locks a username from one address after AXES_FAILURE_LIMIT failures
# for the cool-off; a per-address budget of login posts covers guessing many usernames.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"  # counts in the cache: no address stored in the database
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "operators.security.client_ip"
AXES_VERBOSE = False  # its log lines carry the address and username; we log our own, without them
LOGIN_RATE_PER_IP = env.int("LOGIN_RATE_PER_IP", default=30)  # login posts per address per window
LOGIN_RATE_WINDOW_MINUTES = env.int("LOGIN_RATE_WINDOW_MINUTES", default=15)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sessions end after inactivity and after an absolute lifetime, both checked on the server
# (operators/middleware.py); background polling does not count as activity.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Headers in every environment, so a policy problem shows up on a developer's machine first.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # data: for the API docs' icons only; our pages use none
        "media-src": ["'self'"],  # voice notes and videos from contacts, served by the desk itself
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- logging: events by id only, never a contact's identifier, name or words -------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Defence in depth: log lines pass a filter that masks phone numbers and long digit runs.
    "filters": {"redact": {"()": "hotline.privacy.redaction.RedactPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO"), "filters": ["redact"]},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs each request's URL, which holds the bot token: keep it quiet.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The development server's access log (full URLs) goes through the same filtered handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- checks of settings that depend on each other ----------------------------------------------
if CELERY_VISIBILITY_TIMEOUT <= TELEGRAM_RETRY_MAX_SECONDS + DELIVERY_CLAIM_SECONDS:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed TELEGRAM_RETRY_MAX_SECONDS + DELIVERY_CLAIM_SECONDS, "
        "or a delivery retry waiting in a worker would be handed out twice."
    )
if DELIVERY_CLAIM_SECONDS <= 4 * TELEGRAM_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("DELIVERY_CLAIM_SECONDS must exceed 4 x TELEGRAM_TIMEOUT_SECONDS (one sendMessage).")
