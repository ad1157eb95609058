#!/usr/bin/env bash
# Unified identity: what the LDAP and OIDC sign-in need beyond PyPI. As root, installs Debian's libldap2-dev and
# libsasl2-dev (python-ldap, pinned in requirements/lock.txt, compiles against them), slapd and ldap-utils (the
# LDAP test starts its own slapd on a free port), and the test OIDC provider (npm: oidc-provider, pinned in
# tests/oidc_provider/package-lock.json). Never fails the run by itself: what is missing is said, and the tests
# that need it skip with the reason.
set -u
cd "$(dirname "$0")/.."
need=()
[ -f /usr/include/ldap.h ] || need+=(libldap2-dev)
[ -f /usr/include/sasl/sasl.h ] || need+=(libsasl2-dev)
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapadd >/dev/null || need+=(ldap-utils)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "NOTE: missing ${need[*]} and apt-get unavailable as root: python-ldap cannot build; LDAP tests will skip" >&2
  else
    echo "=== installing ${need[*]} (LDAP sign-in and its test server) ==="
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need[@]}" >/tmp/shijian-apt-identity.log 2>&1 \
      || { apt-get update -q >>/tmp/shijian-apt-identity.log 2>&1 \
           && apt-get install -y -q "${need[@]}" >>/tmp/shijian-apt-identity.log 2>&1; } \
      || echo "NOTE: installing ${need[*]} failed (see /tmp/shijian-apt-identity.log)" >&2
  fi
fi
if [ ! -d tests/oidc_provider/node_modules/oidc-provider ]; then
  if command -v npm >/dev/null; then
    echo "=== installing the test OIDC provider (npm ci in tests/oidc_provider) ==="
    (cd tests/oidc_provider && npm ci --no-audit --no-fund --silent) \
      || echo "NOTE: npm ci in tests/oidc_provider failed: the OIDC tests will skip" >&2
  else
    echo "NOTE: npm not found: the OIDC tests will skip" >&2
  fi
fi
exit 0
