"""Serving the web app, and the demo."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, progress_bar, refresh_analytics

app = typer.Typer()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes")] = 2,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="no job worker alongside (run `shijian worker` separately)")
    ] = False,
) -> None:
    """Serve the web app with gunicorn (static files served by the app itself; no CDN) and, unless --no-worker,
    a job worker beside it.

    Each request is one JSON log line on stderr (the request log replaces gunicorn's access log); /metrics adds up
    the workers' counts (prometheus_client's multiprocess mode, in a fresh $SHIJIAN_HOME/metrics).
    """
    django_setup()
    from django.conf import settings

    metrics_dir = Path(settings.HOME) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "shijian.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        # gunicorn 27's control socket sits at one path per user (~/.gunicorn/gunicorn.ctl): two instances on a
        # machine would take it from each other. Nothing here uses it.
        "--no-control-socket",
    ]
    if no_worker:
        os.execv(sys.executable, args)
    from shijian.jobs import worker

    job_worker = worker.spawn()
    console.print(f"job worker started (pid {job_worker.pid})")
    web = subprocess.Popen(args)
    signal.signal(signal.SIGTERM, lambda *_: web.terminate())  # stopped as a service: both go
    try:
        rc = web.wait()
    except KeyboardInterrupt:  # Ctrl-C reached gunicorn too
        rc = web.wait()
    finally:
        worker.stop(job_worker)
    raise typer.Exit(rc)


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    scale: Annotated[str, typer.Option(help="gaoming or a number of entities")] = "gaoming",
    seed: int = 1,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="set up only; do not start the server")] = False,
) -> None:
    """Generate the Gaoming demo district, load its register, ingest its feeds and build the entity files (first
    run only), create demo users, and serve the app."""
    os.environ.setdefault("SHIJIAN_HTTPS", "0")  # loopback demo over plain HTTP
    django_setup()
    from shijian.demo import DEMO_PASSWORD, DEMO_USERS, demo_authenticator_keys, prepare

    t0 = time.perf_counter()
    prepare(scale, seed, progress_bar, console.print)
    refresh_analytics()
    console.print(f"demo ready in {time.perf_counter() - t0:.1f} s")
    console.print(f"\n  open http://{host}:{port}/  and log in as one of:")
    for username, role, region, _d in DEMO_USERS:
        console.print(f"    {username:<10} ({role}, {region})")
    console.print(f"  password for all demo users: [bold]{DEMO_PASSWORD}[/]")
    console.print("  leaders and administrators also enter a code from an authenticator app holding their key")
    console.print("  (or `oathtool --totp -b KEY`):")
    for username, key in demo_authenticator_keys().items():
        console.print(f"    {username:<10} [bold]{key}[/]")
    console.print("")
    if not no_serve:
        serve(host=host, port=port, workers=2)
