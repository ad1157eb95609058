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


class DiscoveryError(ValueError):
    """The provider's discovery document could not be read or does not describe a usable provider."""


# the discovery document's keys (OpenID Connect Discovery 1.0, section 3) and the settings they fill
DISCOVERED = {
    "authorization_endpoint": "SHIJIAN_OIDC_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "SHIJIAN_OIDC_TOKEN_ENDPOINT",
    "userinfo_endpoint": "SHIJIAN_OIDC_USERINFO_ENDPOINT",
    "jwks_uri": "SHIJIAN_OIDC_JWKS_ENDPOINT",
}


def discover(issuer: str, sign_algo: str = "RS256", timeout: float = 10) -> dict[str, str]:
    """The endpoint settings of the provider at ``issuer``, read from its ``/.well-known/openid-configuration``.

    The document must name the same issuer (OpenID Connect Discovery 1.0, 4.3), list every endpoint the sign-in
    uses, support the authorization code flow and sign ID tokens with ``sign_algo``; otherwise ``DiscoveryError``
    says what is wrong. Read once, by an administrator (``shijian identity discover``), never at start-up."""
    import requests

    issuer = issuer.rstrip("/")
    if not issuer.startswith(("https://", "http://")):
        raise DiscoveryError(f"the issuer must be an https:// URL, not {issuer!r}")
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        doc = response.json()
    except requests.RequestException as exc:
        raise DiscoveryError(f"{url} could not be read: {exc}") from exc
    except ValueError as exc:
        raise DiscoveryError(f"{url} is not JSON") from exc
    if not isinstance(doc, dict):
        raise DiscoveryError(f"{url} is not a discovery document")
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        raise DiscoveryError(f"the document names the issuer {doc.get('issuer')!r}, not {issuer!r}")
    missing = [key for key in DISCOVERED if not doc.get(key)]
    if missing:
        raise DiscoveryError(f"the document lacks {', '.join(missing)}")
    if "code" not in doc.get("response_types_supported", ["code"]):
        raise DiscoveryError("the provider does not support the authorization code flow")
    algs = doc.get("id_token_signing_alg_values_supported", [sign_algo])
    if sign_algo not in algs:
        raise DiscoveryError(f"the provider signs ID tokens with {', '.join(algs)}, not {sign_algo}")
    return {setting: str(doc[key]) for key, setting in DISCOVERED.items()}
