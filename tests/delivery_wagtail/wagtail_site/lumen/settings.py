"""A minimal Wagtail 8 site: one page model whose StreamField blocks are intents, the API v2 router,
and core i18n (en, de-de, de-at). The database path comes from ``WAGTAIL_DB``; ``DEBUG`` from
``WAGTAIL_DEBUG`` (off unless set to 1)."""

import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "charter-wagtail-test-site-not-secret"
DEBUG = os.environ.get("WAGTAIL_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "intents",
    "wagtail.api.v2",
    "wagtail.sites",
    "wagtail",
    "rest_framework",
    "modelcluster",
    "taggit",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "lumen.urls"
WSGI_APPLICATION = "lumen.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "DIRS": []}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("WAGTAIL_DB", os.path.join(BASE_DIR, "wagtail.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = True
WAGTAIL_I18N_ENABLED = True
LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = [("en", "English"), ("de-de", "German"), ("de-at", "Austrian German")]
WAGTAIL_SITE_NAME = "Lumen"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1"
STATIC_URL = "/static/"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
