from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.cases import signed_views
from shijian.supervision import public, views

urlpatterns: list[Any] = [
    path("supervision/plans/", views.plan_list, name="plan_list"),
    path("supervision/plans/add/", views.plan_add, name="plan_add"),
    path("supervision/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("supervision/plans/<int:plan_pk>/batches/add/", views.batch_add, name="batch_add"),
    path("supervision/plans/<int:plan_pk>/freeze/", views.freeze, name="plan_freeze"),
    path("supervision/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("supervision/draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("supervision/draws/<int:pk>/files/<str:name>", views.draw_staff_file, name="draw_staff_file"),
    path("supervision/tasks/", views.task_list, name="task_list"),
    path("supervision/visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("supervision/visits/<int:pk>/print/<str:form>/", views.visit_print, name="visit_print"),
    path("supervision/visits/<int:pk>/documents/<str:form>.pdf", signed_views.visit_document, name="visit_document"),
    path(
        "supervision/visits/<int:pk>/documents/<str:form>/sign/",
        signed_views.visit_document_sign,
        name="visit_document_sign",
    ),
    path("supervision/visits/<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("supervision/attachments/<int:pk>/", views.attachment_get, name="attachment_get"),
    path("supervision/publication/", views.publication, name="publication"),
    path("public/", public.index, name="public_index"),
    path("public/draws/<str:code>/", public.draw, name="public_draw"),
    path("public/draws/<str:code>/check/", public.check_line, name="public_check"),
    path("public/draws/<str:code>/files/<str:name>", public.draw_file, name="public_draw_file"),
    path("public/results.<str:fmt>", public.results_feed, name="public_results"),
]
