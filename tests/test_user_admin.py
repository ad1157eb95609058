"""User administration by data administrators, password change for everyone, and `shijian user create`."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from typer.testing import CliRunner

from shijian.accounts.models import User
from shijian.core.models import AuditEvent
from tests.conftest import PASSWORD, World


def _events(username: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="accounts.user", object_repr=username).order_by("id"))


def test_it_lists_only_the_users_of_the_admins_region(world: World) -> None:
    r = world.client("hecheng_admin").get(reverse("user_list"))
    assert r.status_code == 200
    names = {u.username for u in r.context["page"]}
    assert names == {"hecheng", "hecheng_admin"}


def test_it_searches_users(world: World) -> None:
    r = world.client("admin").get(reverse("user_list"), {"q": "yang"})
    assert {u.username for u in r.context["page"]} == {"yanghe", "yanghe_admin"}


def test_it_is_closed_to_other_roles(world: World) -> None:
    for who in ("leader", "samr", "inspector", "auditor"):
        assert world.client(who).get(reverse("user_list")).status_code == 403, who
        assert world.client(who).post(reverse("user_add"), {}).status_code == 403, who


def test_it_creates_a_user_with_a_one_time_password_shown_once(world: World) -> None:
    c = world.client("hecheng_admin")
    r = c.post(
        reverse("user_add"),
        {"username": "newbie", "role": "inspector", "region": "440608004001", "department": world.depts["hecheng"].pk},
    )
    assert r.status_code == 200
    assert r["Cache-Control"] == "no-store"
    secret = r.context["secret"]
    assert secret in r.content.decode()
    user = User.objects.get(username="newbie")
    assert (user.role, user.region_code, user.department_id) == ("inspector", "440608004001", world.depts["hecheng"].pk)
    assert user.check_password(secret) and user.must_change_password and not user.is_superuser
    [event] = _events("newbie")
    assert event.action == "create" and event.actor_name == "hecheng_admin" and event.after is not None
    assert "password" not in event.after and secret not in str(event.after)


def test_an_admin_cannot_create_a_user_outside_their_region(world: World) -> None:
    c = world.client("hecheng_admin")
    r = c.post(reverse("user_add"), {"username": "far", "role": "inspector", "region": "440608106"})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    r = c.post(reverse("user_add"), {"username": "far", "role": "inspector", "region": "440608"})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    # a department of another region is not offered, and not accepted
    r = c.post(
        reverse("user_add"),
        {"username": "far", "role": "inspector", "region": "440608004", "department": world.depts["yanghe"].pk},
    )
    assert r.status_code == 200 and "department" in r.context["form"].errors
    assert not User.objects.filter(username="far").exists()


def test_an_admin_cannot_grant_superuser(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    from shijian.accounts.services import create_user

    c = world.client("admin")
    r = c.post(
        reverse("user_add"),
        {"username": "boss", "role": "leader", "region": "440608", "is_superuser": "on", "is_staff": "on"},
    )
    assert r.status_code == 200
    boss = User.objects.get(username="boss")
    assert not boss.is_superuser and not boss.is_staff
    with pytest.raises(PermissionDenied):
        create_user(world.users["admin"], username="boss2", role="leader", region="440608", department=None,
                    superuser=True)  # fmt: skip
    assert not User.objects.filter(username="boss2").exists()


def test_an_admin_cannot_see_or_change_a_superuser(world: World) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD, region_code="440608")
    c = world.client("admin")
    assert root.username not in {u.username for u in c.get(reverse("user_list")).context["page"]}
    assert c.post(reverse("user_reset", args=[root.pk])).status_code == 404
    assert c.post(reverse("user_active", args=[root.pk]), {"active": "0"}).status_code == 404
    root.refresh_from_db()
    assert root.is_active and root.check_password(PASSWORD)


def test_it_changes_role_department_and_region_within_the_region(world: World) -> None:
    target = world.users["hecheng"]
    c = world.client("admin")
    r = c.post(
        reverse("user_edit", args=[target.pk]),
        {"role": "inspector", "region": "440608106", "department": world.depts["yanghe"].pk},
    )
    assert r.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.region_code, target.department_id) == (
        "inspector",
        "440608106",
        world.depts["yanghe"].pk,
    )
    event = _events("hecheng")[-1]
    assert event.before is not None and event.after is not None
    assert event.action == "update" and event.before["role"] == "dept_staff" and event.after["role"] == "inspector"
    # out of the admin's region: refused, nothing saved
    r = c.post(reverse("user_edit", args=[target.pk]), {"role": "leader", "region": "440604"})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    target.refresh_from_db()
    assert target.role == "inspector"


def test_a_town_admin_cannot_touch_a_user_of_another_town(world: World) -> None:
    other = world.users["yanghe"]
    c = world.client("hecheng_admin")
    assert c.get(reverse("user_edit", args=[other.pk])).status_code == 404
    assert c.post(reverse("user_reset", args=[other.pk])).status_code == 404
    assert c.post(reverse("user_active", args=[other.pk]), {"active": "0"}).status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_it_deactivates_a_user_who_then_cannot_log_in(world: World) -> None:
    target = world.users["hecheng"]
    r = world.client("admin").post(reverse("user_active", args=[target.pk]), {"active": "0"})
    assert r.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert _events("hecheng")[-1].reason == "deactivated"
    from django.test import Client

    r = Client().post(reverse("login"), {"username": "hecheng", "password": PASSWORD})
    assert r.status_code == 200  # the form again, not the redirect of a login


def test_an_admin_cannot_deactivate_themselves(world: World) -> None:
    me = world.users["admin"]
    world.client("admin").post(reverse("user_active", args=[me.pk]), {"active": "0"})
    me.refresh_from_db()
    assert me.is_active


def test_a_reset_password_is_shown_once_and_must_be_changed(world: World) -> None:
    target = world.users["hecheng"]
    r = world.client("admin").post(reverse("user_reset", args=[target.pk]))
    assert r.status_code == 200
    secret = r.context["secret"]
    target.refresh_from_db()
    assert target.check_password(secret) and not target.check_password(PASSWORD) and target.must_change_password
    event = _events("hecheng")[-1]
    assert event.reason == "password reset" and secret not in str(event.after)
    c = world.client("hecheng")
    r = c.get(reverse("entity_list"))
    assert r.status_code == 302 and r["Location"] == reverse("password_change")
    new = "a-brand-new-passphrase-7"
    r = c.post(reverse("password_change"), {"old_password": secret, "new_password1": new, "new_password2": new})
    assert r.status_code == 302
    target.refresh_from_db()
    assert target.check_password(new) and not target.must_change_password
    assert world.client("hecheng").get(reverse("entity_list")).status_code == 200


def test_everyone_changes_their_own_password_in_chinese(world: World) -> None:
    c = world.client("inspector")
    r = c.get(reverse("password_change"))
    assert r.status_code == 200
    assert "修改密码" in r.content.decode()
    new = "another-good-passphrase-3"
    r = c.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == reverse("password_change_done")
    user = world.users["inspector"]
    user.refresh_from_db()
    assert user.check_password(new)
    assert _events("inspector")[-1].reason == "password changed by the user"
    r = c.post(reverse("password_change"), {"old_password": "wrong", "new_password1": new, "new_password2": new})
    assert r.status_code == 200 and r.context["form"].errors


def test_the_cli_reads_the_password_from_stdin(world: World) -> None:
    from shijian.cli import app

    result = CliRunner().invoke(
        app,
        ["user", "create", "piped", "--role", "inspector", "--region", "440608", "--password-stdin"],
        input="piped-passphrase-42\n",
    )
    assert result.exit_code == 0, result.output
    user = User.objects.get(username="piped")
    assert user.check_password("piped-passphrase-42") and not user.must_change_password
    assert _events("piped")[0].actor_name == "cli"


def test_the_cli_has_no_password_option(world: World) -> None:
    from shijian.cli import app

    result = CliRunner().invoke(
        app, ["user", "create", "x", "--role", "inspector", "--region", "440608", "--password", "pw-in-history-1"]
    )
    assert result.exit_code != 0
    assert not User.objects.filter(username="x").exists()


def test_the_cli_prompts_twice_on_a_terminal(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from shijian.cli import accounts

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["typed-passphrase-77", "typed-passphrase-77"])
    monkeypatch.setattr("sys.stdin", Tty(""))
    monkeypatch.setattr("typer.prompt", lambda *a, **k: next(answers) if k.get("confirmation_prompt") else None)
    assert accounts.read_password(password_stdin=False) == "typed-passphrase-77"


def test_the_cli_refuses_to_prompt_without_a_terminal(world: World) -> None:
    from shijian.cli import app

    result = CliRunner().invoke(app, ["user", "create", "y", "--role", "inspector", "--region", "440608"], input="")
    assert result.exit_code == 2
    assert "--password-stdin" in result.output
    assert not User.objects.filter(username="y").exists()


def test_the_region_is_chosen_from_a_picker_and_a_single_department_is_preselected(world: World) -> None:
    c = world.client("hecheng_admin")
    page = c.get(reverse("user_add")).content.decode()
    assert re.search(r'<input[^>]*name="region"[^>]*data-region-picker', page), "no region picker"
    form = c.get(reverse("user_add")).context["form"]
    depts = list(form.fields["department"].queryset)
    if len(depts) == 1:
        assert form.fields["department"].initial == depts[0].pk and form.fields["department"].empty_label is None
    # the picker's selects are filled from the regions the administrator may assign
    r = c.get("/pick/regions/?under=440608")
    assert r.status_code == 200
    items = r.json()["items"]
    assert items and all(item["code"].startswith("440608004") for item in items), items
