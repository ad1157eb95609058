"""Accounts and the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, fail, out

user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="leader, dept_staff, inspector, data_admin or auditor")],
    region: Annotated[str, typer.Option(help="6-digit district, 9-digit town or 12-digit village code")],
    department: Annotated[str, typer.Option(help="department code")] = "",
    password: Annotated[str | None, typer.Option(help="prompted when omitted")] = None,
    superuser: bool = False,
) -> None:
    """Create a user bound to a role, a region and a department."""
    django_setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from shijian.accounts.models import Role, User
    from shijian.core.codes.tables import divisions
    from shijian.registry.models import Department

    if role not in Role.values:
        fail(f"role must be one of {', '.join(Role.values)}")
    if region not in divisions():
        fail(f"unknown division code {region}")
    dept = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            fail(f"unknown department {department}")
    if User.objects.filter(username=username).exists():
        fail(f"user {username} exists")
    pw = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(pw)
    except ValidationError as exc:
        fail("; ".join(exc.messages))
    User.objects.create_user(
        username,
        password=pw,
        role=role,
        region_code=region,
        department=dept,
        is_superuser=superuser,
        is_staff=superuser,
    )
    console.print(f"created {username} ({role}, {region})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain of the audit log; exit 1 at the first row that does not match."""
    django_setup()
    from shijian.core.audit import verify_chain

    report = verify_chain()
    if report.ok:
        out.print(f"OK: audit chain intact, {report.checked:,} events checked")
        return
    out.print(
        f"BROKEN: event #{report.first_bad_id}: {report.problem} ({report.checked:,} events before it are intact)"
    )
    raise typer.Exit(1)
