from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.hazards import views

urlpatterns: list[Any] = [
    path("hazards/", views.hazard_list, name="hazard_list"),
    path("hazards/export/", views.hazard_export, name="hazard_export"),
    path("hazards/add/", views.hazard_add, name="hazard_add"),
    path("hazards/dashboard/", views.dashboard, name="hazard_dashboard"),
    path("hazards/reminders/", views.reminder_list, name="reminder_list"),
    path("hazards/<int:pk>/", views.hazard_detail, name="hazard_detail"),
    path("hazards/from-check/<int:check_pk>/", views.open_from_check, name="hazard_from_check"),
]
