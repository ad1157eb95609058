from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.ocr import views as ocr_views
from shijian.registry import views_extra
from shijian.registry.views import DEPARTMENT, ENTITY, INSPECTOR, ITEM, RESPONSIBILITY
from shijian.web.generic import object_urls

urlpatterns: list[Any] = [
    path("entities/licence-ocr/", ocr_views.read, name="licence_ocr"),
    *object_urls(ENTITY, "entities"),
    path("entities/<int:pk>/records/", views_extra.entity_records, name="entity_records"),
    *object_urls(DEPARTMENT, "departments"),
    *object_urls(INSPECTOR, "inspectors"),
    path("inspectors/<int:pk>/conflicts/add/", views_extra.conflict_add, name="inspector_conflict_add"),
    *object_urls(ITEM, "items"),
    *object_urls(RESPONSIBILITY, "responsibilities"),
]
