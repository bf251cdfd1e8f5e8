"""Routes of the test project: delivery reports under ``/sms/reports/``."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sms/reports/", include("smsbridge.contrib.django.urls"))]
