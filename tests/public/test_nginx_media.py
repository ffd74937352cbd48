"""Public media sent by a real nginx (``media_sendfile = "nginx"``, X-Accel-Redirect) in front of
real gunicorn: the archive still decides (A01, A02), nginx sends the bytes with the archive's
security headers, answers Range, never a 304 from a file's time, keeps its internal location
closed to visitors, and logs no address (M17). The configuration is the one docs/parts/media.md
gives (``nginx_config`` below is its text with the test's paths and ports).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from nuevonorte import stories
from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story
from nuevonorte.public.media import MEDIA_CSP, NGINX_LOCATION
from nuevonorte.storage import get_storage
from tests.conftest import TEST_SECRET
from tests.gunicorn_fixtures import free_port, gunicorn
from tests.support import require

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT = "127.0.0.1"


def nginx_config(folder: Path, port: int, archive_port: int, media_dir: str) -> str:
    """docs/parts/media.md's server block, in a minimal nginx.conf of the test's own."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the media folder
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {temp["body"]};
  proxy_temp_path {temp["proxy"]};
  fastcgi_temp_path {temp["fastcgi"]};
  uwsgi_temp_path {temp["uwsgi"]};
  scgi_temp_path {temp["scgi"]};
  access_log off;
  server_tokens off;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{archive_port};
      proxy_set_header Host $host;
    }}
    location {NGINX_LOCATION} {{
      internal;
      alias {media_dir}/;
      etag off;
      if_modified_since off;
      log_not_found off;
      add_header Last-Modified "" always;
      add_header Content-Security-Policy "{MEDIA_CSP}" always;
      add_header X-Content-Type-Options nosniff always;
      add_header Cross-Origin-Resource-Policy cross-origin always;
    }}
  }}
}}
"""


@contextmanager
def nginx(folder: Path, archive_port: int, media_dir: str) -> Iterator[int]:
    require(Path(NGINX).exists(), "nginx is not installed")
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(folder, port, archive_port, media_dir))
    with (folder / "nginx.stderr").open("wb") as stderr:
        server = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(folder)], stdout=stderr, stderr=stderr)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/es/", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                assert server.poll() is None, (folder / "nginx.stderr").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.timeout(120)
def test_nginx_sends_what_the_archive_decides_A01_A02_A27_M17(
    app: Any, app_config: dict[str, Any], media_story: Story, tmp_path: Path
) -> None:
    config = tmp_path / "nginx-mode.toml"
    config.write_text('media_sendfile = "nginx"\n')
    env = {
        **os.environ,
        "NUEVONORTE_CONFIG": str(config),
        "NUEVONORTE_SECRET_KEY": TEST_SECRET,
        "NUEVONORTE_DATABASE_URL": app_config["database_url"],
        "NUEVONORTE_MEDIA_DIR": app_config["media_dir"],
        "NUEVONORTE_INDEX_DIR": app_config["index_dir"],
        "NUEVONORTE_LEDGER_PATH": app_config["ledger_path"],
        "NUEVONORTE_QUEUE_PATH": app_config["queue_path"],
    }
    photo = next(m for m in media_story.media if m.kind == MediaKind.IMAGE)
    voice = next(m for m in media_story.media if m.kind == MediaKind.AUDIO)
    thumbnail = get_storage().path(photo.thumbnail_key).read_bytes()
    recording = get_storage().path(voice.storage_key).read_bytes()
    logs = tmp_path / "logs"
    logs.mkdir()
    out, err = logs / "gunicorn.out", logs / "gunicorn.err"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        gunicorn(env, 2, stdout, stderr) as archive_port,
        nginx(logs, archive_port, app_config["media_dir"]) as port,
    ):
        status, headers, body = get(port, f"/media/{photo.public_id}/thumbnail")
        assert (status, body) == (200, thumbnail)
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Content-Security-Policy"] == MEDIA_CSP
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert "X-Accel-Redirect" not in headers and "ETag" not in headers
        assert "Last-Modified" not in headers  # stored files carry no time (M16), not even 1970

        # Range is nginx's; a file's time never answers a conditional request (a recording
        # silenced later keeps its address: only a full answer can bring the new bytes).
        status, headers, body = get(port, f"/media/{voice.public_id}/original", Range="bytes=10-109")
        assert (status, body) == (206, recording[10:110])
        status, _, body = get(
            port,
            f"/media/{voice.public_id}/original",
            **{"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        )
        assert (status, body) == (200, recording)
        # Nor a piece to splice onto a copy kept from before: If-Range with a time is a full answer.
        status, _, body = get(
            port,
            f"/media/{voice.public_id}/original",
            Range="bytes=10-109",
            **{"If-Range": "Thu, 01 Jan 1970 00:00:00 GMT"},
        )
        assert (status, body) == (200, recording)

        # The internal location is closed to visitors, whatever the path.
        direct = (
            NGINX_LOCATION
            + get_storage().path(photo.thumbnail_key).relative_to(get_storage().root).as_posix()
        )
        assert get(port, direct)[0] == 404

        # The archive still decides, at once, in every worker.
        missing = get(port, "/media/doesnotexist/thumbnail")
        stories.withdraw(media_story)
        db.session.commit()
        for _ in range(4):  # both gunicorn workers, whichever answers
            status, _, body = get(port, f"/media/{photo.public_id}/thumbnail")
            assert (status, body) == (missing[0], missing[2])
            assert get(port, f"/media/{voice.public_id}/original")[0] == 404

    for log in logs.glob("*"):
        if log.is_file():
            assert CLIENT.encode() not in log.read_bytes().replace(b"127.0.0.1:", b""), log.name
