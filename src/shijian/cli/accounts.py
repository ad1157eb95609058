"""Accounts and the audit log."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, fail, out

user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
identity_app = typer.Typer(help="Unified identity: the OIDC provider and the LDAP directory.", no_args_is_help=True)


def read_password(password_stdin: bool) -> str:
    """The new password: one line from stdin with --password-stdin, else prompted twice on a terminal."""
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: no password on standard input")
        return line
    if not sys.stdin.isatty():
        fail("no terminal to prompt for the password: pipe it with --password-stdin")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="leader, dept_staff, inspector, data_admin or auditor")],
    region: Annotated[str, typer.Option(help="6-digit district, 9-digit town or 12-digit village code")],
    department: Annotated[str, typer.Option(help="department code")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (one line)")
    ] = False,
    superuser: bool = False,
) -> None:
    """Create a user bound to a role, a region and a department.

    The password is never an option (it would stay in the shell history): it is prompted, with confirmation, on a
    terminal, or read from standard input with --password-stdin.
    """
    django_setup()
    from django.core.exceptions import ValidationError

    from shijian.accounts.models import User
    from shijian.accounts.services import create_user
    from shijian.core.request_context import acting_as
    from shijian.registry.models import Department

    dept = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            fail(f"unknown department {department}")
    pw = read_password(password_stdin)
    operator = User(username="cli", is_superuser=True, is_active=True)  # the machine's operator; not saved
    try:
        with acting_as(None):
            create_user(
                operator,
                username=username,
                role=role,
                region=region,
                department=dept,
                password=pw,
                superuser=superuser,
            )
    except ValidationError as exc:
        fail("; ".join(exc.messages))
    console.print(f"created {username} ({role}, {region}{', superuser' if superuser else ''})")


@user_app.command("reset-otp")
def user_reset_otp(username: str) -> None:
    """Remove a user's authenticator and recovery codes (a lost phone; a superuser has no administrator above
    them): they enrol anew at the next login. Audited, as the operator."""
    django_setup()
    from shijian.accounts.models import User
    from shijian.accounts.services import reset_second_factor
    from shijian.core.request_context import acting_as

    target = User.objects.filter(username=username).first()
    if target is None:
        fail(f"no user named {username}")
    operator = User(username="cli", is_superuser=True, is_active=True)  # the machine's operator; not saved
    with acting_as(None):
        removed = reset_second_factor(operator, target)
    console.print(f"second factor of {username} reset ({removed} devices removed); they enrol at the next login")


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


@identity_app.command("discover")
def identity_discover(
    issuer: Annotated[
        str, typer.Argument(help="the provider's issuer URL, e.g. https://sso.example.gov.cn/realms/amr")
    ],
    sign_algo: Annotated[str, typer.Option(help="the ID token's signature algorithm this platform checks")] = "RS256",
) -> None:
    """Read the OIDC provider's /.well-known/openid-configuration and print the SHIJIAN_OIDC_* endpoint lines for
    the environment file (docs/configuration.md); nothing is changed."""
    from shijian.config.identity import DiscoveryError, discover

    try:
        found = discover(issuer, sign_algo)
    except DiscoveryError as exc:
        fail(str(exc))
    for setting, value in found.items():
        typer.echo(f"{setting}={value}")
    typer.echo(f"SHIJIAN_OIDC_SIGN_ALGO={sign_algo}")
