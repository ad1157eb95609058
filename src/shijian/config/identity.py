"""Settings of the directory sign-ins (LDAP, OIDC), built from SHIJIAN_* values (docs/configuration.md).

Each returns the third-party library's own settings; the tests build the same from their own servers.
"""

from __future__ import annotations

from typing import Any


def ldap_settings(
    url: str,
    *,
    bind_dn: str,
    bind_password: str,
    user_base: str,
    user_filter: str,
    group_base: str,
    start_tls: bool,
) -> dict[str, Any]:
    """django-auth-ldap's settings: users found under ``user_base`` by ``user_filter`` (``%(user)s``), their
    groups the ``groupOfNames`` under ``group_base`` that list them as ``member``, named by ``cn``."""
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    return {
        "AUTH_LDAP_SERVER_URI": url,
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_base, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(group_base, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"),
        "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(name_attr="cn"),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_REFERRALS: 0},
    }


def oidc_settings(
    *,
    client_id: str,
    client_secret: str,
    authorization_endpoint: str,
    token_endpoint: str,
    userinfo_endpoint: str,
    jwks_endpoint: str,
    scopes: str,
    sign_algo: str,
) -> dict[str, Any]:
    """mozilla-django-oidc's settings (authorization code flow with PKCE, signed ID token checked by JWKS)."""
    return {
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": token_endpoint,
        "OIDC_OP_USER_ENDPOINT": userinfo_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": jwks_endpoint,
        "OIDC_RP_SCOPES": scopes,
        "OIDC_RP_SIGN_ALGO": sign_algo,
        "OIDC_USE_PKCE": True,
        "OIDC_VERIFY_SSL": True,
        "OIDC_TIMEOUT": 10,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
        "LOGIN_REDIRECT_URL_FAILURE": "/login/?sso=failed",
    }
