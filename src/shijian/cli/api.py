"""API clients: create, rotate, revoke (the secret is printed once and never taken on the command line)."""

from __future__ import annotations

from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, fail, out

api_app = typer.Typer(help="Clients of the REST API (/api/).", no_args_is_help=True)
client_app = typer.Typer(help="API clients and their credentials.", no_args_is_help=True)
api_app.add_typer(client_app, name="client")


def _show(client_id: str, secret: str) -> None:
    out.print(f"client_id={client_id}", highlight=False)
    out.print(f"client_secret={secret}", highlight=False)
    console.print("[yellow]the secret is shown once: store it now[/]", highlight=False)


@client_app.command("create")
def create(
    name: str,
    role: Annotated[str, typer.Option(help="leader, dept_staff, data_admin or auditor")],
    region: Annotated[str, typer.Option(help="6-digit district, 9-digit town or 12-digit village code")],
    scopes: Annotated[
        str,
        typer.Option(help="comma-separated: entities, risk, records, codes, visits, hazards, draws, loads, ingest"),
    ] = "entities",
    department: Annotated[str, typer.Option(help="department code")] = "",
    rate_limit: Annotated[int, typer.Option(help="requests per minute")] = 120,
    daily_quota: Annotated[int, typer.Option(help="requests per business day (0: no quota)")] = 0,
) -> None:
    """Create an API client bound to a role, a region and a department; print its credentials once."""
    django_setup()
    from shijian.api.clients import create_client
    from shijian.core.request_context import acting_as
    from shijian.registry.models import Department

    dept = Department.objects.filter(code=department).first() if department else None
    if department and dept is None:
        fail(f"unknown department {department}")
    try:
        with acting_as(None):
            client, secret = create_client(
                name,
                role,
                region,
                [s.strip() for s in scopes.split(",") if s.strip()],
                dept,
                "cli",
                rate_limit,
                daily_quota,
            )
    except ValueError as exc:
        fail(str(exc))
    _show(client.client_id, secret)


def _client(name: str) -> object:
    from shijian.api.models import ApiClient

    client = ApiClient.objects.filter(name=name).first()
    if client is None:
        fail(f"no API client named {name}")
    return client


@client_app.command("rotate")
def rotate(name: str) -> None:
    """Give the client a new secret; the old one and its tokens stop working."""
    django_setup()
    from shijian.api import clients
    from shijian.api.models import ApiClient
    from shijian.core.request_context import acting_as

    client = _client(name)
    assert isinstance(client, ApiClient)
    with acting_as(None):
        secret = clients.rotate(client)
    _show(client.client_id, secret)


@client_app.command("limits")
def limits(
    name: str,
    rate_limit: Annotated[int | None, typer.Option(help="requests per minute")] = None,
    daily_quota: Annotated[int | None, typer.Option(help="requests per business day (0: no quota)")] = None,
) -> None:
    """Change a client's rate limit and daily quota (audited); without options, show them and today's use."""
    django_setup()
    from shijian.api import clients
    from shijian.api.models import ApiClient
    from shijian.core import clock
    from shijian.core.request_context import acting_as

    client = _client(name)
    assert isinstance(client, ApiClient)
    if rate_limit is not None or daily_quota is not None:
        try:
            with acting_as(None):
                clients.set_limits(client, rate_limit, daily_quota)
        except ValueError as exc:
            fail(str(exc))
    used = client.quota_used if client.quota_day == clock.today() else 0
    quota = str(client.daily_quota) if client.daily_quota else "none"
    out.print(f"{name}: {client.rate_limit}/min, daily quota {quota}, used today {used}", highlight=False)


@client_app.command("revoke")
def revoke(name: str) -> None:
    """Deactivate the client and drop its tokens."""
    django_setup()
    from shijian.api import clients
    from shijian.api.models import ApiClient
    from shijian.core.request_context import acting_as

    client = _client(name)
    assert isinstance(client, ApiClient)
    with acting_as(None):
        clients.revoke(client)
    out.print(f"revoked {name}", highlight=False)
