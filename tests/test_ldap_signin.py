"""LDAP sign-in against a real slapd (tests/ldap_server.py): the directory's groups give role, region, department."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from shijian.accounts.models import User
from shijian.core.models import AuditEvent
from tests.conftest import World
from tests.ldap_server import (
    Directory,
    slapd,  # noqa: F401  (the fixture)
)

BACKENDS = ["django.contrib.auth.backends.ModelBackend", "shijian.accounts.ldap.LDAPBackend"]


@pytest.fixture
def directory(slapd: Directory, settings: Settings, world: World) -> Directory:  # noqa: F811
    for key, value in slapd.settings().items():
        setattr(settings, key, value)
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    return slapd


def _login(username: str, password: str) -> tuple[Client, Any]:
    c = Client()
    return c, c.post(reverse("login"), {"username": username, "password": password})


def test_a_directory_user_signs_in_with_the_role_and_region_of_their_groups(directory: Directory) -> None:
    dn = directory.add_person("ldap-li", "li-directory-pw-1", given="Li", surname="Hua")
    directory.set_groups(dn, ["shijian-role-leader", "shijian-region-440608", "unrelated-group"])
    c, r = _login("ldap-li", "li-directory-pw-1")
    assert r.status_code == 302
    user = User.objects.get(username="ldap-li")
    assert (user.role, user.region_code, user.department) == ("leader", "440608", None)
    assert (user.first_name, user.email) == ("Li", "ldap-li@shijian.test")
    assert not user.has_usable_password()  # the directory keeps the password
    assert AuditEvent.objects.filter(action="create", object_repr="ldap-li", reason__contains="LDAP").exists()
    # A leader: the platform's own second factor comes next.
    assert c.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))


def test_the_department_group_gives_the_region(directory: Directory, world: World) -> None:
    dn = directory.add_person("ldap-zhao", "zhao-directory-pw-1")
    directory.set_groups(dn, ["shijian-role-inspector", "shijian-dept-440608004-SAMRS"])
    c, r = _login("ldap-zhao", "zhao-directory-pw-1")
    assert r.status_code == 302
    user = User.objects.get(username="ldap-zhao")
    assert (user.role, user.region_code, user.department) == ("inspector", "440608004", world.depts["hecheng"])
    assert c.get(reverse("home"), follow=True).status_code == 200


def test_a_wrong_password_is_refused(directory: Directory) -> None:
    dn = directory.add_person("ldap-qian", "qian-directory-pw-1")
    directory.set_groups(dn, ["shijian-role-dept_staff", "shijian-region-440608"])
    _, r = _login("ldap-qian", "not-the-password")
    assert r.status_code == 200 and "_auth_user_id" not in r.client.session
    assert not User.objects.filter(username="ldap-qian").exists()


@pytest.mark.parametrize(
    "groups",
    [
        [],
        ["shijian-region-440608"],
        ["shijian-role-leader", "shijian-role-inspector", "shijian-region-440608"],
        ["shijian-role-superuser", "shijian-region-440608"],
        ["shijian-role-leader", "shijian-region-999999"],
    ],
    ids=["no-groups", "no-role", "two-roles", "unknown-role", "unknown-region"],
)
def test_groups_that_do_not_say_role_and_region_are_refused(
    directory: Directory, groups: list[str], request: pytest.FixtureRequest
) -> None:
    uid = f"ldap-sun-{request.node.callspec.id}"
    dn = directory.add_person(uid, "sun-directory-pw-1")
    directory.set_groups(dn, groups)
    _, r = _login(uid, "sun-directory-pw-1")
    assert r.status_code == 200 and "_auth_user_id" not in r.client.session
    assert not User.objects.filter(username=uid).exists()
    assert AuditEvent.objects.filter(action="login_failed", reason__startswith="LDAP: ").exists()


def test_a_group_change_in_the_directory_moves_the_user_at_the_next_sign_in(directory: Directory) -> None:
    dn = directory.add_person("ldap-zhou", "zhou-directory-pw-1")
    directory.set_groups(dn, ["shijian-role-dept_staff", "shijian-region-440608004"])
    assert _login("ldap-zhou", "zhou-directory-pw-1")[1].status_code == 302
    directory.set_groups(dn, ["shijian-role-auditor", "shijian-region-440608"])
    assert _login("ldap-zhou", "zhou-directory-pw-1")[1].status_code == 302
    user = User.objects.get(username="ldap-zhou")
    assert (user.role, user.region_code) == ("auditor", "440608")
    event = AuditEvent.objects.filter(action="update", object_repr="ldap-zhou").latest("id")
    assert event.before is not None and event.after is not None
    assert event.before["role"] == "dept_staff" and event.after["role"] == "auditor"


def test_a_deactivated_user_cannot_sign_in_through_the_directory(directory: Directory) -> None:
    dn = directory.add_person("ldap-wu", "wu-directory-pw-1")
    directory.set_groups(dn, ["shijian-role-dept_staff", "shijian-region-440608"])
    assert _login("ldap-wu", "wu-directory-pw-1")[1].status_code == 302
    User.objects.filter(username="ldap-wu").update(is_active=False)
    _, r = _login("ldap-wu", "wu-directory-pw-1")
    assert r.status_code == 200 and "_auth_user_id" not in r.client.session
