"""Delivery-report routes: ``include("smsbridge.contrib.django.urls")`` under a prefix.

``<prefix>/<provider>`` for Basic or unauthenticated routes, ``<prefix>/<provider>/<token>``
for token routes, as ``smsbridge serve-reports`` serves them.
"""

from __future__ import annotations

from django.urls import path

from smsbridge.contrib.django.views import delivery_report

app_name = "smsbridge"

urlpatterns = [
    path("<str:provider>", delivery_report, name="delivery-report"),
    path("<str:provider>/<str:token>", delivery_report, name="delivery-report-token"),
]
