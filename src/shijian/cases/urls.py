from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.cases import public, signed_views, views

urlpatterns: list[Any] = [
    path("public/complaints/", public.complaint_form, name="public_complaint"),
    path("public/complaints/done/", public.complaint_done, name="public_complaint_done"),
    path("public/complaints/status/", public.complaint_status, name="public_complaint_status"),
    path("public/verify/", public.verify_document, name="public_verify"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/add/", views.complaint_add, name="complaint_add"),
    path("complaints/import/", views.complaint_import, name="complaint_import"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/notice.pdf", views.complaint_notice, name="complaint_notice"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/add/", views.case_add, name="case_add"),
    path("cases/from-hazard/<int:pk>/", views.case_from_hazard, name="case_from_hazard"),
    path("cases/from-check/<int:check_pk>/", views.case_from_check, name="case_from_check"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/decision.pdf", views.case_decision, name="case_decision"),
    path("cases/<int:pk>/filing.pdf", signed_views.case_filing, name="case_filing"),
    path("cases/<int:pk>/filing/sign/", signed_views.case_filing_sign, name="case_filing_sign"),
    path("cases/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("cases/evidence/<int:pk>/", views.evidence_get, name="evidence_get"),
]
