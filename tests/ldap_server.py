"""A real OpenLDAP server (Debian's slapd) for the LDAP sign-in tests: its own config and database in a temporary
folder, on a free loopback port, stopped at the end. ``scripts/ensure_identity.sh`` installs slapd."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=shijian,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "slapd-root-secret-2026"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"


@dataclass
class Directory:
    url: str
    conn: Any  # a python-ldap connection bound as the root DN

    def add_person(self, uid: str, password: str, given: str = "", surname: str = "") -> str:
        dn = f"uid={uid},{PEOPLE}"
        attrs = {
            "objectClass": [b"inetOrgPerson"],
            "uid": [uid.encode()],
            "cn": [uid.encode()],
            "sn": [(surname or uid).encode()],
            "givenName": [(given or uid).encode()],
            "mail": [f"{uid}@shijian.test".encode()],
            "userPassword": [password.encode()],
        }
        self.conn.add_s(dn, list(attrs.items()))
        return dn

    def set_groups(self, dn: str, groups: list[str]) -> None:
        """Put ``dn`` into exactly these groups (each a groupOfNames, created when missing)."""
        import ldap

        for gdn, attrs in self.conn.search_s(
            GROUPS, ldap.SCOPE_ONELEVEL, "(objectClass=groupOfNames)", ["cn", "member"]
        ):
            members = attrs.get("member", [])
            name = attrs["cn"][0].decode()
            if dn.encode() in members and name not in groups:
                if len(members) == 1:  # a groupOfNames needs a member: the last one leaving removes it
                    self.conn.delete_s(gdn)
                else:
                    self.conn.modify_s(gdn, [(ldap.MOD_DELETE, "member", [dn.encode()])])
        for name in groups:
            gdn = f"cn={name},{GROUPS}"
            try:
                self.conn.add_s(
                    gdn, [("objectClass", [b"groupOfNames"]), ("cn", [name.encode()]), ("member", [dn.encode()])]
                )
            except ldap.ALREADY_EXISTS:
                with contextlib.suppress(ldap.TYPE_OR_VALUE_EXISTS):
                    self.conn.modify_s(gdn, [(ldap.MOD_ADD, "member", [dn.encode()])])

    def settings(self) -> dict[str, Any]:
        from shijian.config.identity import ldap_settings

        return ldap_settings(
            self.url,
            bind_dn=ROOT_DN,
            bind_password=ROOT_PASSWORD,
            user_base=PEOPLE,
            user_filter="(uid=%(user)s)",
            group_base=GROUPS,
            start_tls=False,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path) -> Path:
    schema = Path("/etc/ldap/schema")
    conf = folder / "slapd.conf"
    (folder / "db").mkdir()
    lines = [f"include {schema / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")]
    lines += [
        "modulepath /usr/lib/ldap",
        "moduleload back_mdb",
        f"pidfile {folder / 'slapd.pid'}",
        "database mdb",
        f'suffix "{SUFFIX}"',
        f'rootdn "{ROOT_DN}"',
        f"rootpw {ROOT_PASSWORD}",
        f"directory {folder / 'db'}",
        "maxsize 16777216",
        "access to attrs=userPassword by anonymous auth by * none",
        "access to * by * read",
    ]
    conf.write_text("\n".join(lines) + "\n")
    return conf


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: Any) -> Iterator[Directory]:
    """A running slapd with the base entries; skips, with the reason, where slapd or python-ldap is missing."""
    if not Path(SLAPD).exists():
        pytest.skip(f"{SLAPD} missing (Debian package slapd; scripts/ensure_identity.sh installs it as root)")
    try:
        import ldap
    except ImportError as exc:
        pytest.skip(f"python-ldap not importable ({exc})")
    folder = tmp_path_factory.mktemp("slapd")
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (folder / "slapd.log").open("w")
    proc = subprocess.Popen(
        [SLAPD, "-d", "0", "-f", str(_config(folder)), "-h", f"{url}/"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        conn = None
        deadline = time.monotonic() + 15
        while conn is None:
            if proc.poll() is not None:
                pytest.skip(f"slapd exited with {proc.returncode}: {(folder / 'slapd.log').read_text()[-500:]}")
            try:
                conn = ldap.initialize(url)
                conn.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
            except ldap.SERVER_DOWN:
                conn = None
                if time.monotonic() > deadline:
                    pytest.skip("slapd did not answer within 15 s")
                time.sleep(0.1)
        conn.add_s(SUFFIX, [("objectClass", [b"dcObject", b"organization"]), ("dc", [b"shijian"]), ("o", [b"Shijian"])])
        for ou in ("people", "groups"):
            conn.add_s(f"ou={ou},{SUFFIX}", [("objectClass", [b"organizationalUnit"]), ("ou", [ou.encode()])])
        yield Directory(url=url, conn=conn)
        conn.unbind_s()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
