"""Backups of the database and the uploads folder, taken while the portal runs.

A backup is one ``portal-backup-<UTC time>.tar`` holding ``manifest.json``, the database
(``database.sqlite3`` made with SQLite's online backup API, or ``database.dump`` from
``pg_dump -Fc``: both are consistent snapshots even while clerks keep writing) and
``uploads.tar`` (the uploads folder).
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tarfile
import tempfile

from sqlalchemy.engine import make_url

from portal import clock


class BackupError(RuntimeError):
    pass


def _sqlite_path(url):
    return make_url(url).database


def _libpq_url(url):
    # pg_dump speaks libpq URIs, which have no "+psycopg" driver suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args):
    # pg_dump/pg_restore with an argument list, never through a shell.
    try:
        subprocess.run(args, check=True, capture_output=True, text=True)  # nosec B603
    except FileNotFoundError as exc:
        raise BackupError(f"{args[0]} is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{args[0]} failed: {exc.stderr.strip()}") from exc


def _dump_database(url, workdir):
    if url.startswith("sqlite"):
        target = os.path.join(workdir, "database.sqlite3")
        src, dst = sqlite3.connect(_sqlite_path(url)), sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # page by page, restarting if a writer changes a copied page
        finally:
            src.close()
            dst.close()
        return "database.sqlite3"
    target = os.path.join(workdir, "database.dump")
    _run(["pg_dump", "-Fc", "--no-owner", "-f", target, "--dbname", _libpq_url(url)])
    return "database.dump"


def create(database_url, uploads_dir, to_dir):
    """Write a backup archive into ``to_dir`` and return its path."""
    os.makedirs(to_dir, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    path = os.path.join(to_dir, f"portal-backup-{stamp}.tar")
    with tempfile.TemporaryDirectory() as workdir:
        db_name = _dump_database(database_url, workdir)
        uploads_tar = os.path.join(workdir, "uploads.tar")
        with tarfile.open(uploads_tar, "w") as tar:
            if uploads_dir and os.path.isdir(uploads_dir):
                tar.add(uploads_dir, arcname="uploads")
        manifest = {
            "created_at": stamp,
            "database": db_name,
            "dialect": "sqlite" if database_url.startswith("sqlite") else "postgresql",
        }
        with tarfile.open(path + ".part", "w") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(os.path.join(workdir, db_name), arcname=db_name)
            tar.add(uploads_tar, arcname="uploads.tar")
        os.replace(path + ".part", path)  # never a half-written file under the final name
    return path


def restore(archive, database_url, uploads_dir):
    """Replace the database and the uploads folder with the content of ``archive``."""
    with tempfile.TemporaryDirectory() as workdir:
        with tarfile.open(archive) as tar:
            tar.extractall(workdir, filter="data")
        with open(os.path.join(workdir, "manifest.json")) as fh:
            manifest = json.load(fh)
        dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        if manifest["dialect"] != dialect:
            raise BackupError(f"this is a {manifest['dialect']} backup; the portal uses {dialect}")
        source = os.path.join(workdir, manifest["database"])
        if dialect == "sqlite":
            src, dst = sqlite3.connect(source), sqlite3.connect(_sqlite_path(database_url))
            try:
                src.backup(dst)  # copies every page back, under SQLite's lock
            finally:
                src.close()
                dst.close()
        else:
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                    _libpq_url(database_url),
                    source,
                ]
            )
        if uploads_dir:
            with tarfile.open(os.path.join(workdir, "uploads.tar")) as tar:
                tar.extractall(workdir, filter="data")
            restored = os.path.join(workdir, "uploads")
            if os.path.isdir(restored):
                shutil.rmtree(uploads_dir, ignore_errors=True)
                shutil.copytree(restored, uploads_dir)
    return manifest
