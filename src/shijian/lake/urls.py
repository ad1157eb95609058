from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.lake import views

urlpatterns: list[Any] = [
    path("linkage/review/", views.review_list, name="review_list"),
    path("linkage/review/<int:pk>/", views.review_decide, name="review_decide"),
    path("records/search/", views.record_search, name="record_search"),
]
