from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.risk import views

urlpatterns: list[Any] = [
    path("risk/", views.overview, name="risk_overview"),
]
