from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.urls import path

from shijian.analytics import views

urlpatterns: list[Any] = [
    path("analytics/", login_required(views.dashboard), name="analytics"),
    path("analytics/forecast/", login_required(views.forecast_view), name="forecast"),
    path("analytics/operations/", login_required(views.operations_view), name="operations"),
    path("analytics/report/", login_required(views.report_view), name="analytics_report"),
]
