from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from shijian.web import audit_log, pick_views, pwa, search, views

urlpatterns: list[Any] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", login_required(search.search_view), name="search"),
    path("pick/regions/", login_required(pick_views.regions), name="pick_regions"),
    path("pick/industries/", login_required(pick_views.industries), name="pick_industries"),
    path("pick/entities/", login_required(pick_views.entities), name="pick_entities"),
    path("audit/", audit_log.audit_list, name="audit_list"),
    path("audit/export/", audit_log.audit_export, name="audit_export"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("", include("shijian.accounts.urls")),
    path("", include("shijian.registry.urls")),
    path("", include("shijian.lake.urls")),
    path("", include("shijian.supervision.urls")),
    path("", include("shijian.translog.urls")),
    path("", include("shijian.hazards.urls")),
    path("", include("shijian.cases.urls")),
    path("", include("shijian.risk.urls")),
    path("", include("shijian.analytics.urls")),
    path("", include("shijian.jobs.urls")),
    path("", include("shijian.notify.urls")),
    path("", include("shijian.dataadmin.urls")),
]
