"""A real OpenID Connect provider for the OIDC sign-in tests: panva's oidc-provider (OpenID Certified, maintained,
on npm) run by tests/oidc_provider/provider.mjs in Node.js, on a free loopback port, stopped at the end.
``scripts/ensure_identity.sh`` installs it (npm ci). A person's browser is played by ``requests``: it signs in on
the provider's own login page and consents, and hands the code back to the Django test client."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

FOLDER = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "shijian-test", "oidc-client-secret-2026-test"
REDIRECT_URI = "http://testserver/oidc/callback/"


@dataclass
class Provider:
    issuer: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        from shijian.config.identity import oidc_settings

        return oidc_settings(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authorization_endpoint=f"{self.issuer}/auth",
            token_endpoint=f"{self.issuer}/token",
            userinfo_endpoint=f"{self.issuer}/me",
            jwks_endpoint=f"{self.issuer}/jwks",
            scopes="openid profile email groups",
            sign_algo="RS256",
        )

    def sign_in(self, authorization_url: str, login: str) -> str:
        """Play the person at the provider: log in as ``login``, consent; the URL it sends the browser back to."""
        import requests

        # Cookies kept by hand: the suite's clock (SHIJIAN_TEST_NOW) is not the provider's, and a cookie jar on
        # the suite's clock would drop the provider's short-lived cookies as expired.
        cookies: dict[str, str] = {}

        def keep(r: requests.Response) -> requests.Response:
            for header in r.raw.headers.getlist("Set-Cookie"):
                name, _, rest = header.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
            return r

        def send() -> dict[str, str]:
            return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

        url = authorization_url
        for _ in range(12):
            r = keep(requests.get(url, headers=send(), allow_redirects=False, timeout=10))
            if r.status_code == 200:  # a login or consent page: submit its form
                action = re.search(r'<form[^>]*action="([^"]+)"', r.text)
                assert action, r.text[:500]
                prompt = re.search(r'name="prompt" value="([^"]+)"', r.text)
                data = {"prompt": prompt.group(1) if prompt else "consent", "login": login, "password": "-"}
                target = urljoin(url, action.group(1))
                r = keep(requests.post(target, data=data, headers=send(), allow_redirects=False, timeout=10))
            assert r.status_code in (302, 303), (r.status_code, r.text[:500])
            url = urljoin(url, r.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider did not send the browser back")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ACCOUNTS: dict[str, dict[str, Any]] = {
    "oidc-wang": {
        "name": "王芳",
        "email": "wang@shijian.test",
        "groups": ["shijian-role-leader", "shijian-region-440608"],
    },
    "oidc-chen": {"groups": ["shijian-role-inspector", "shijian-dept-440608004-SAMRS", "staff"]},
    "oidc-liu": {"groups": ["staff"]},
    "oidc-he": {"groups": "shijian-role-auditor"},
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: Any) -> Iterator[Provider]:
    """A running provider with the ``ACCOUNTS``; skips, with the reason, where Node.js or the package is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: the OIDC provider (npm oidc-provider) cannot run")
    if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("tests/oidc_provider/node_modules missing: run scripts/ensure_identity.sh (npm ci)")
    folder = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "accounts": ACCOUNTS,
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = (folder / "provider.log").open("w")
    proc = subprocess.Popen(
        [node, str(FOLDER / "provider.mjs"), str(folder / "config.json")],
        cwd=FOLDER,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.skip(
                    f"the OIDC provider exited with {proc.returncode}: {(folder / 'provider.log').read_text()[-500:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("the OIDC provider did not listen within 20 s")
                time.sleep(0.1)
        yield Provider(issuer=issuer, accounts=ACCOUNTS)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
