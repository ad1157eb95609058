from __future__ import annotations

from typing import Any

from django.urls import path

from shijian.accounts import oidc, otp_views, views

urlpatterns: list[Any] = [
    path("users/", views.user_list, name="user_list"),
    path("users/add/", views.user_add, name="user_add"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", views.user_active, name="user_active"),
    path("users/<int:pk>/reset-password/", views.user_reset, name="user_reset"),
    path("users/<int:pk>/reset-otp/", views.user_reset_otp, name="user_reset_otp"),
    path("otp/setup/", otp_views.otp_setup, name="otp_setup"),
    path("otp/verify/", otp_views.otp_verify, name="otp_verify"),
    path("otp/recovery-codes/", otp_views.otp_recovery_codes, name="otp_recovery_codes"),
    path("oidc/login/", oidc.oidc_login, name="oidc_login"),
    path("oidc/callback/", oidc.oidc_callback, name="oidc_authentication_callback"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
