"""`caxton backup create|restore`: an online copy made by the server, put back offline.

`create` asks the running server for a verified online backup (written under
its data directory). `restore` runs here, with no server: it puts a backup in
place as the database of a data directory, which the server must not be
using. An existing database is only replaced with --force, and even then it
is kept beside the restored one, renamed, never deleted.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from caxton.cli import render
from caxton.cli.context import EXIT_CONFLICT, EXIT_FAILED, context


@click.group()
def backup() -> None:
    """Back up a running server's database, and restore one (offline)."""


@backup.command("create")
@click.option(
    "--name",
    default=None,
    help="File name under the server's data_dir/backups (default: caxton-<time>.db).",
)
def create(name: str | None) -> None:
    """Have the server at --url write a verified backup; prints its path on the server."""
    import re

    from caxton.api.types import BACKUP_NAME_PATTERN, Backup, BackupRequest

    if name is not None and not re.fullmatch(BACKUP_NAME_PATTERN, name):
        raise click.BadParameter(
            "a plain file name: letters, digits, '.', '_' and '-', up to 128, no directories",
            param_hint="--name",
        )
    request = BackupRequest(name=name)
    cli = context()
    written = cli.client().post(
        "/backups",
        Backup,
        body=request,
        timeout=600.0,  # a large database takes a while to copy and verify
    )
    if cli.json:
        render.emit(written)
    else:
        click.echo(written.path)
        click.echo(
            f"({written.size_bytes} bytes, schema version {written.schema_version}, verified)",
            err=True,
        )


@backup.command("restore")
@click.argument("source", metavar="BACKUP", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The data directory to restore into (created if missing).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database already there (it is kept, renamed caxton.db.before-restore-*).",
)
def restore(source: Path, data_dir: Path, force: bool) -> None:
    """Put BACKUP in place as the database of --data-dir. Stop the server first.

    Runs here, without a server: the server using --data-dir must be stopped,
    or it would go on with the database it has open. Exits 5 when the
    directory holds a database already (unless --force), 1 when BACKUP is not
    a usable Caxton backup.
    """
    from caxton.cli.client import CliError
    from caxton.errors import ConfigError
    from caxton.store import DATABASE_FILE, verify_backup
    from caxton.store import restore as restore_into

    data_dir = data_dir.resolve()
    database = data_dir / DATABASE_FILE
    present = [path for path in _database_files(database) if path.exists()]
    if present and not force:
        raise CliError(
            f"{data_dir} holds a database already ({present[0].name}). Stop the server that "
            "uses it, then restore into an empty directory, or pass --force to replace it "
            "(the current one is kept, renamed).",
            EXIT_CONFLICT,
        )
    try:
        version = verify_backup(source)  # before anything is moved aside
        kept = _move_aside(present)
        try:
            target = restore_into(source, data_dir)
        except BaseException:
            _move_back(kept)
            raise
    except ConfigError as error:
        raise CliError(str(error), EXIT_FAILED) from None
    if context().json:
        from caxton.api.types import Backup

        size = target.stat().st_size
        render.emit(Backup(path=str(target), size_bytes=size, schema_version=version))
        return
    for path in kept:
        click.echo(f"kept the old {path.name.partition('.before-')[0]} as {path}", err=True)
    click.echo(f"restored {source} into {target} (schema version {version})")
    click.echo(f"start a server on it: caxton server start --data-dir {data_dir}", err=True)


def _database_files(database: Path) -> list[Path]:
    return [database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))]


def _move_aside(paths: list[Path]) -> list[Path]:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    moved = []
    for path in paths:
        kept = path.with_name(f"{path.name}.before-restore-{stamp}")
        path.rename(kept)
        moved.append(kept)
    return moved


def _move_back(kept: list[Path]) -> None:
    for path in kept:
        path.rename(path.with_name(path.name.partition(".before-")[0]))
