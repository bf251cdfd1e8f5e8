"""The Django settings the integration tests start from: the app, the report routes and
the test backend. Each test points ``SMSBRIDGE`` at its own emulators with
``override_settings``."""

from __future__ import annotations

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = ["smsbridge.contrib.django"]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "tests.contrib.django_urls"
DATABASES: dict[str, object] = {}
USE_TZ = True
SMSBRIDGE = {
    "backend": "smsbridge.contrib.django.backends.LocmemBackend",
    "region": "GB",
}
