"""Settings shared by every environment; every value that differs comes from the environment.

README's "Settings" table lists each variable read here.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

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
    "django_htmx",
    "operators",
    "hotline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a login unless it says otherwise (intake endpoints).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After authentication: the operator's own interface language and time zone.
    "operators.middleware.OperatorPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
                "hotline.context_processors.desk",
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
}

# --- the hotline's own rules ------------------------------------------------------------
SLA_HOURS = env.float("SLA_HOURS", default=24)
SLA_WARNING_HOURS = env.float("SLA_WARNING_HOURS", default=20)
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=60)
# What a new request from a contact whose last case is closed does: "reopen" it or open "new".
CASE_NEW_REQUEST_ON_CLOSED = env.str("CASE_NEW_REQUEST_ON_CLOSED", default="reopen")
# Key of the keyed hash that finds a contact by identifier without storing it in clear.
CONTACT_LOOKUP_KEY = env.str("CONTACT_LOOKUP_KEY", default="")
# Give each new or waiting case to an on-shift operator who speaks its language (hotline/assignment.py).
AUTO_ASSIGN = env.bool("AUTO_ASSIGN", default=True)
AUTO_ASSIGN_SWEEP_SECONDS = env.float("AUTO_ASSIGN_SWEEP_SECONDS", default=60)
# The ledger of case counts (hotline/case_counts.py) is folded this often: the dashboard
# reads as many rows as changes since.
CASE_COUNTS_COMPACT_SECONDS = env.float("CASE_COUNTS_COMPACT_SECONDS", default=300)
# Fernet keys for personal data at rest; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEY", default=[])

# --- Celery --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
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
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # The 24-hour promise: flag every case waiting too long (hotline/tasks.py).
    "sla-sweep": {
        "task": "hotline.tasks.sla_sweep_task",
        "schedule": timedelta(seconds=SLA_SWEEP_SECONDS),
        "options": {"expires": SLA_SWEEP_SECONDS},
    },
    # The safety net of auto-assignment: waiting cases a lost or skipped task left behind.
    "auto-assign-sweep": {
        "task": "hotline.tasks.auto_assign_sweep_task",
        "schedule": timedelta(seconds=AUTO_ASSIGN_SWEEP_SECONDS),
        "options": {"expires": AUTO_ASSIGN_SWEEP_SECONDS},
    },
    "case-counts-compact": {
        "task": "hotline.tasks.case_counts_compact_task",
        "schedule": timedelta(seconds=CASE_COUNTS_COMPACT_SECONDS),
        "options": {"expires": CASE_COUNTS_COMPACT_SECONDS},
    },
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {"TITLE": "Hotline Desk API", "VERSION": "1.0.0", "SERVE_INCLUDE_SCHEMA": False}

# --- logging: events by id only, never a contact's identifier, name or words ---------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

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
# The webhook stores each update and wakes a worker to apply it (hotline/telegram/inbox.py):
# at most one wake-up per window across web processes; a periodic drain as the safety net;
# supervisors are warned when the oldest stored update has waited longer than LATE.
TELEGRAM_INBOX_WINDOW_SECONDS = env.int("TELEGRAM_INBOX_WINDOW_SECONDS", default=1)
TELEGRAM_INBOX_SWEEP_SECONDS = env.float("TELEGRAM_INBOX_SWEEP_SECONDS", default=10)
TELEGRAM_INBOX_LATE_SECONDS = env.float("TELEGRAM_INBOX_LATE_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["telegram-process-updates"] = {
    "task": "hotline.tasks.telegram_process_updates_task",
    "schedule": timedelta(seconds=TELEGRAM_INBOX_SWEEP_SECONDS),
    "options": {"expires": TELEGRAM_INBOX_SWEEP_SECONDS},
}
CELERY_BEAT_SCHEDULE["telegram-prune-updates"] = {
    "task": "hotline.tasks.telegram_prune_updates_task",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}
# httpx logs each request's URL, which holds the bot token: keep it quiet.
LOGGING["loggers"].update({"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}})  # type: ignore[attr-defined]

# REST intake: per-token rate ("N/second|minute|hour|day") and largest accepted body.
API_INTAKE_RATE = env.str("API_INTAKE_RATE", default="120/minute")
API_INTAKE_MAX_BYTES = env.int("API_INTAKE_MAX_BYTES", default=64 * 1024)
# Throttling counts live in the cache: shared Redis when REDIS_URL is set (several web
# processes), else per-process memory (the one-process embedded default).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hotline"}}
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # Swagger UI / Redoc served from our static files, no CDN
SPECTACULAR_SETTINGS.update({
    "DESCRIPTION": "Intake API: integrations submit requests with an API token (see docs/telegram.md).",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
})

# --- privacy: retention of personal data (hotline/retention.py, docs/notes/privacy.md) --------
# Days after a case closed (or surrendered) before its personal data is erased; figures stay.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
CELERY_IMPORTS = ["hotline.retention"]  # its task lives next to the rule it runs
CELERY_BEAT_SCHEDULE["retention"] = {
    "task": "hotline.retention.retention_task",
    "schedule": timedelta(days=1),
    "options": {"expires": 3600},
}

# --- security: second factor, lockout, sessions, headers, rate limits (SECURITY.md) ---------
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "axes", "csp"]
# django-otp after authentication (sets user.is_verified()); our session rules and the
# second-factor gate before LoginRequiredMiddleware (it answers htmx with a client redirect).
_login_required = MIDDLEWARE.index("django.contrib.auth.middleware.LoginRequiredMiddleware")
MIDDLEWARE[_login_required:_login_required] = [
    "django_otp.middleware.OTPMiddleware",
    "operators.middleware.SessionLimitsMiddleware",
    "operators.middleware.SecondFactorMiddleware",
]
MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")  # every response, error pages included
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last: turns a lockout into the 429 page
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = ["operators.api_auth.VerifiedSessionAuthentication"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("operators.context_processors.signin")  # type: ignore[index]

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
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Intake floods: requests per Telegram user per minute before the bot's own side effects
# (acknowledgement, triage questions, button answers) stop; every request is still stored.
TELEGRAM_USER_RATE_PER_MINUTE = env.int("TELEGRAM_USER_RATE_PER_MINUTE", default=20)

# Defence in depth: log lines pass a filter that masks phone numbers and long digit runs.
LOGGING["filters"] = {"redact": {"()": "hotline.log_redaction.RedactPersonalData"}}
LOGGING["handlers"]["console"]["filters"] = ["redact"]  # type: ignore[index]
LOGGING["root"]["filters"] = ["redact"]  # type: ignore[index]
# The development server's access log (full URLs) goes through the same filtered handler.
LOGGING["loggers"]["django.server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}  # type: ignore[index]

# --- Celery reliability: Redis or a worker may die; no work may be lost (docs/deploy.md) ------
# Outbound delivery (hotline/delivery.py). A sender's claim on a message expires after
# DELIVERY_CLAIM_SECONDS (longer than one sendMessage can take: connect + write + read timeouts).
DELIVERY_CLAIM_SECONDS = env.float("DELIVERY_CLAIM_SECONDS", default=120)
# Messages still queued this long after they were due are queued again (their task was lost).
DELIVERY_RECOVER_AFTER_SECONDS = env.float("DELIVERY_RECOVER_AFTER_SECONDS", default=120)
DELIVERY_RECOVER_SWEEP_SECONDS = env.float("DELIVERY_RECOVER_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["delivery-recover"] = {
    "task": "hotline.tasks.delivery_recover_task",
    "schedule": timedelta(seconds=DELIVERY_RECOVER_SWEEP_SECONDS),
    "options": {"expires": DELIVERY_RECOVER_SWEEP_SECONDS},
}
# The periodic sweeps have a queue of their own, so a backlog of deliveries (after an outage,
# or a slow Telegram) never delays the overdue flagging or makes its runs expire unseen.
# Workers consume every queue in CELERY_TASK_QUEUES unless started with -Q.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("periodic", Exchange("celery"), routing_key="periodic"),
    Queue("intake", Exchange("celery"), routing_key="intake"),
)
CELERY_TASK_ROUTES = {
    entry["task"]: {"queue": "periodic"} for entry in CELERY_BEAT_SCHEDULE.values()
}
# Applying stored Telegram updates has its own queue too: new requests reach the desk even
# behind a backlog of deliveries or a long sweep.
CELERY_TASK_ROUTES["hotline.tasks.telegram_process_updates_task"] = {"queue": "intake"}
# Publishing after commit (hotline/queueing.py): a few quick tries, then give up and leave the
# work to the sweeps, so a webhook answers within about a second even with Redis down.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
# Workers and beat wait for the broker as long as it takes (at start and after a loss).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2)
# A task running when the broker connection drops finishes (our tasks are idempotent; its
# late ack is lost, so Redis hands it out again after the visibility timeout and it does
# nothing). Cancelling it could interrupt a sendMessage Telegram already accepted.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
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
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
    # The rate-limit cache must not hang either (the API fails open when it is unreachable).
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT, "socket_timeout": 2}
if CELERY_VISIBILITY_TIMEOUT <= TELEGRAM_RETRY_MAX_SECONDS + DELIVERY_CLAIM_SECONDS:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed TELEGRAM_RETRY_MAX_SECONDS + DELIVERY_CLAIM_SECONDS, "
        "or a delivery retry waiting in a worker would be handed out twice."
    )
if DELIVERY_CLAIM_SECONDS <= 4 * TELEGRAM_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("DELIVERY_CLAIM_SECONDS must exceed 4 x TELEGRAM_TIMEOUT_SECONDS (one sendMessage).")
