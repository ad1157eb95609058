"""A real S3-compatible server for the storage tests: moto's standalone server (``moto[server]``, in the test
dependencies of requirements/lock.txt) on a free loopback port, one bucket, stopped at the end. Where it cannot
start, the tests that need it are skipped with the reason."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shijian.config.storage import S3Config, default_storage_setting

BUCKET = "shijian-files"
KEY, SECRET, REGION = "test-access-key", "test-secret-key", "us-east-1"


@dataclass
class S3Server:
    endpoint: str
    client: Any  # a boto3 S3 client of the server

    def config(self) -> S3Config:
        return S3Config(endpoint=self.endpoint, bucket=BUCKET, access_key=KEY, secret_key=SECRET, region=REGION)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"moto server exited with {proc.returncode}"
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return ""
        time.sleep(0.2)
    return f"moto server did not answer within {seconds:.0f} s"


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    try:
        import boto3
        import moto.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto[server]/boto3 not installed ({exc}); run `make install`")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        problem = _wait(endpoint, proc)
        if problem:
            pytest.skip(f"no S3-compatible server: {problem}")
        client = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name=REGION
        )
        client.create_bucket(Bucket=BUCKET)
        yield S3Server(endpoint, client)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module", name="s3_server")
def s3_server_fixture() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


class Store:
    """The storage a test runs on, and what a test may do to it behind the application's back.

    A file is named as its ``FieldFile`` names it: ``str | None`` to django-stubs, a name once the file is stored.
    """

    def __init__(self, kind: str, root: Path, s3: S3Server | None) -> None:
        self.kind, self.root, self.s3 = kind, root, s3

    def read(self, name: str | None) -> bytes:
        assert name is not None
        if self.s3 is not None:
            return bytes(self.s3.client.get_object(Bucket=BUCKET, Key=name)["Body"].read())
        return (self.root / name).read_bytes()

    def exists(self, name: str | None) -> bool:
        assert name is not None
        if self.s3 is not None:
            listed = self.s3.client.list_objects_v2(Bucket=BUCKET, Prefix=name)
            return any(o["Key"] == name for o in listed.get("Contents", []))
        return (self.root / name).is_file()

    def tamper(self, name: str | None, data: bytes) -> None:
        assert name is not None
        if self.s3 is not None:
            self.s3.client.put_object(Bucket=BUCKET, Key=name, Body=data)
        else:
            (self.root / name).write_bytes(data)


@pytest.fixture(params=["local", "s3"], name="store")
def store_fixture(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Store:
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        settings.STORAGES = default_storage_setting("s3", server.config())
        return Store("s3", settings.MEDIA_ROOT, server)
    settings.STORAGES = default_storage_setting("local")
    return Store("local", settings.MEDIA_ROOT, None)
