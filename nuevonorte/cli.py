"""The admin command line: ``nuevonorte init``, ``check``, ``fixity``, ``backup``, ``export``… (``--help``).

Configuration and database problems end with a one-line message and exit code 2, never a
traceback. Commands that change the database commit once, at the end.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from nuevonorte import database
from nuevonorte.config import PROJECT_DIR, ConfigError
from nuevonorte.extensions import db

if TYPE_CHECKING:
    from nuevonorte.recovery import Recovered


class Unavailable(click.ClickException):
    """A problem outside the archive (config, database) that the admin must fix: exit 2."""

    exit_code = 2


def _create_app() -> Flask:
    from nuevonorte import create_app

    return create_app()


class ArchiveGroup(FlaskGroup):
    """Flask's command group, but a broken configuration is one line, not a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError as e:
            _fail(f"configuration problem: {e}")
        return super().list_commands(ctx)


cli = ArchiveGroup(
    name="nuevonorte",
    create_app=_create_app,
    load_dotenv=False,
    help="Nuevo Norte: the archive's admin commands.",
)


def main() -> None:
    """Console entry point: run the command group, turning setup problems into exit code 2."""
    try:
        cli.main(prog_name="nuevonorte")
    except ConfigError as e:
        _fail(f"configuration problem: {e}")
    except (NoSuchModuleError, ArgumentError):
        _fail("database_url names a database driver that is not installed or is malformed")
    except (OperationalError, DBAPIError) as e:
        _fail(f"cannot use the database (check database_url): {_first_line(e.orig)}")


def _fail(message: str) -> NoReturn:
    click.echo(f"nuevonorte: {message}", err=True)
    sys.exit(2)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error and str(error).strip() else "no answer"


@cli.command("init", with_appcontext=False)
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """Create the folders and a secret key, and migrate the database to the newest schema."""
    from flask_migrate import upgrade

    from nuevonorte.database import write_intent
    from nuevonorte.storage import get_storage

    instance = PROJECT_DIR / "instance"
    instance.mkdir(mode=stat.S_IRWXU, exist_ok=True)
    if _write_default_config(instance / "config.toml"):
        click.echo(f"Wrote a new secret key to {instance / 'config.toml'}")
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context(), write_intent():
        upgrade()  # first: an unreachable database must leave nothing half set up
        get_storage().ensure()
        Path(app.config["INDEX_DIR"]).mkdir(parents=True, exist_ok=True)
        from nuevonorte import search

        if not search.index_exists():
            search.rebuild()
        _for_the_archive_only(app, instance)
    click.echo("The archive is ready: database at the newest schema.")


def _for_the_archive_only(app: Flask, instance: Path) -> None:
    """Take group and other permissions off everything the archive already wrote (made by an
    older version, or copied in): its folders 0700, its files 0600 (hole 10 of issue 10)."""
    roots = [instance, Path(app.config["INDEX_DIR"]), Path(app.config["MEDIA_DIR"])]
    if db.engine.dialect.name == "sqlite" and db.engine.url.database:
        roots += [Path(f"{db.engine.url.database}{s}") for s in ("", "-wal", "-shm", "-journal")]
    for root in roots:
        if not root.exists() or root.is_symlink():
            continue
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU if path.is_dir() else stat.S_IRUSR | stat.S_IWUSR)


def _write_default_config(path: Path) -> bool:
    """Write a config file holding a fresh secret key, unless one is configured already."""
    if os.environ.get("NUEVONORTE_CONFIG") or os.environ.get("NUEVONORTE_SECRET_KEY"):
        return False
    if path.exists():
        return False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# Written by `nuevonorte init`. See config.example.toml for every key.\n")
        f.write(f'secret_key = "{secrets.token_hex(32)}"\n')
    return True


@click.command("create-curator")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@with_appcontext
def create_curator_command(email: str, admin: bool) -> None:
    """Create a curator account; the password is asked for, never given on the command line."""
    from flask_babel import force_locale

    from nuevonorte.accounts import AccountError, create_curator
    from nuevonorte.database import write_intent
    from nuevonorte.extensions import db
    from nuevonorte.models import Role

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with write_intent():
        try:
            create_curator(email, password, Role.ADMIN if admin else Role.CURATOR)
        except AccountError as e:
            db.session.rollback()
            # The command line speaks English, like the rest of the admin tooling.
            with force_locale("en"):
                raise click.ClickException(e.message) from None
        db.session.commit()
    click.echo(f"Created {'admin' if admin else 'curator'} account {email.strip().lower()}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when the archive has no stories yet.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load a small bilingual archive of fictional demo stories."""
    from nuevonorte import demo
    from nuevonorte.database import write_intent
    from nuevonorte.extensions import db

    with write_intent():
        if demo.is_loaded():
            click.echo("The demo content is already loaded.")
            return
        if if_empty and demo.archive_has_stories():
            click.echo("The archive already has stories; the demo was not loaded.")
            return
        summary = demo.load()
        db.session.commit()
    click.echo(
        f"Loaded the fictional demo archive: {summary.stories} stories, "
        f"{summary.media} media files, {summary.collections} collection."
    )


@click.command("check")
@click.option("--verify-content", is_flag=True, help="Also re-hash every stored file.")
@click.option(
    "--repair",
    is_flag=True,
    help=(
        "Also delete stored files that no row references, make missing silenced recordings, "
        "make again the withdrawals the withdrawal ledger holds and the database does not, and "
        "count again the themes and places of public stories if their kept counts disagree."
    ),
)
@with_appcontext
def check_command(verify_content: bool, repair: bool) -> None:
    """Report disagreements between the database and the media files; exit 1 if any.

    What dead processes left is removed first (as ``sweep`` does); with ``--repair``, so is
    every other stored file no row references.
    """
    from nuevonorte.checks import (
        audio_findings,
        count_findings,
        index_findings,
        ledger_findings,
        media_findings,
    )
    from nuevonorte.recovery import recover
    from nuevonorte.storage import get_storage

    storage = get_storage()
    _report_recovery(recover(storage, orphans=repair))
    findings = ledger_findings(repair) + audio_findings(repair) + count_findings(repair)
    findings += media_findings(storage, verify_content) + index_findings()
    db.session.commit()  # end this command's own read, which would hold the WAL
    database.checkpoint_now(db.engine)  # finish a WAL truncation a busy withdrawal left (T04)
    from nuevonorte.search import health

    for line in health.summary():
        click.echo(line)
    for finding in findings:
        click.echo(f"{finding.kind}: {finding.detail}")
    if findings:
        click.echo(f"{len(findings)} disagreement(s) found.", err=True)
        sys.exit(1)
    click.echo(f"Database, media files and search index agree ({current_app.config['MEDIA_DIR']}).")


@click.command("fixity")
@click.option("--max-files", type=click.IntRange(min=1), help="Read at most this many files in this run.")
@click.option(
    "--limit-mb",
    type=click.IntRange(min=1),
    help="Read at most this many megabytes in this run (a larger first file is still read alone).",
)
@with_appcontext
def fixity_command(max_files: int | None, limit_mb: int | None) -> None:
    """Re-hash this run's share of the stored media files (run it daily from cron).

    Oldest verification first, enough that every file is read within fixity_period_days.
    Exit 1 naming each missing or altered file; nothing is changed or repaired.
    """
    from nuevonorte import fixity
    from nuevonorte.storage import get_storage

    result = fixity.run(
        get_storage(),
        current_app.config["FIXITY_PERIOD_DAYS"],
        max_files=max_files,
        max_bytes=limit_mb * 1024 * 1024 if limit_mb else None,
    )
    for problem in result.problems:
        click.echo(problem.line())
    click.echo(result.summary())
    if result.problems:
        click.echo(f"{len(result.problems)} file(s) failed the fixity check; nothing was changed.", err=True)
        sys.exit(1)


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Remove what interrupted uploads and withdrawals left (run it from cron; F01, T08)."""
    from nuevonorte.recovery import recover
    from nuevonorte.storage import get_storage

    _report_recovery(recover(get_storage()))
    from nuevonorte.contribute import signin, submissions

    submissions.sweep()  # receipt codes past the hour, forms past two days
    signin.sweep()  # expired contributor sessions
    from nuevonorte import drafts

    drafts.sweep()  # curators' kept drafts past a week
    db.session.commit()


def _report_recovery(recovered: Recovered) -> None:
    if recovered.temps:
        click.echo(f"Removed {len(recovered.temps)} temporary file(s) of interrupted uploads.")
    else:
        click.echo("No temporary files of interrupted uploads.")
    if recovered.files:
        click.echo(f"Removed {len(recovered.files)} stored file(s) that no story uses any more.")


@click.command("reindex")
@click.option("--due", is_flag=True, help="Only index stories whose embargo has lifted (for cron).")
@with_appcontext
def reindex_command(due: bool) -> None:
    """Rebuild the search indexes from the database into a new folder, then swap it in."""
    from nuevonorte import search
    from nuevonorte.extensions import db
    from nuevonorte.models import Story

    # No write_intent here: the search module opens its own read and write transactions.
    if due:
        n = search.index_due_embargoes(force=True)
        applied = search.apply_log()
        click.echo(f"Indexed {n} stories whose embargo lifted; applied {applied} waiting update(s).")
        return
    total = db.session.scalar(db.select(db.func.count()).select_from(Story)) or 0
    db.session.rollback()  # end the read transaction before the long rebuild
    try:
        with click.progressbar(length=total, label="Indexing stories") as bar:
            public, staff = search.rebuild(progress=bar.update)
    except search.RebuildFailed as e:
        raise click.ClickException(f"The rebuild failed; the indexes in use are unchanged. {e}") from e
    click.echo(f"Rebuilt the search indexes: {public} public and {staff} staff documents.")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Back up the database, media files and configuration into DEST, encrypted to the
    configured backup_recipients (a second backup copies only new media files)."""
    from nuevonorte.backups import BackupError
    from nuevonorte.backups.make import backup

    try:
        made = backup(dest)
    except BackupError as e:
        raise Unavailable(f"backup failed: {e}") from None
    if made.leftovers_removed:
        click.echo(f"Removed {made.leftovers_removed} leftover(s) of an interrupted backup.")
    for key in made.missing:
        click.echo(f"missing media file (not backed up; run `nuevonorte check`): {key}", err=True)
    click.echo(
        f"Backed up into {made.snapshot}: {made.objects} media file(s), "
        f"{made.objects_written} new ({made.bytes_written / 1e6:.1f} MB written)."
    )


@click.command("restore")
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--identity",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The age identity file the workshop keeps offline.",
)
@click.option("--snapshot", help="Restore this snapshot (a folder name under SRC/snapshots), not the newest.")
@click.option(
    "--config-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the backed-up configuration (without its secret key) to this file.",
)
@with_appcontext
def restore_command(src: Path, identity: Path, snapshot: str | None, config_out: Path | None) -> None:
    """Restore a backup from SRC into this empty deployment, replay the withdrawal ledger and
    rebuild the search indexes. Every checksum is verified before anything changes."""
    from nuevonorte.backups import RestoreRefused
    from nuevonorte.backups.restore import RestoreFailed, restore

    try:
        done = restore(src, identity, snapshot, config_out)
    except RestoreRefused as e:
        raise Unavailable(f"restore refused, nothing was changed: {e}") from None
    except RestoreFailed as e:
        click.echo(f"nuevonorte: restore failed: {e}", err=True)
        sys.exit(1)
    if done.missing:
        click.echo(f"{done.missing} media file(s) were missing when the backup was made.", err=True)
    click.echo(
        f"Restored snapshot {done.snapshot}: {done.objects} media file(s); replayed {done.replayed} "
        f"withdrawal ledger entr(ies); search rebuilt ({done.public} public, {done.staff} staff documents)."
    )


@click.command("export")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--public",
    "public_only",
    is_flag=True,
    help="Only what the consent rule makes public (for a partner or a library).",
)
@with_appcontext
def export_command(dest: Path, public_only: bool) -> None:
    """Write the archive to DEST (a new or empty folder) as a validated BagIt package."""
    from bagit import BagError

    from nuevonorte.export import DestinationRefused, check_destination, export

    try:
        check_destination(dest.absolute())
        if not public_only:
            click.echo(
                "Warning: the full export holds unpublished stories, original media and the consent "
                "history; keep it like a backup (encrypted, offline) and never share it."
            )
        made = export(dest, public=public_only)
    except DestinationRefused as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(
            f"the export failed and left nothing at {dest}: {e.strerror or e}"
        ) from None
    except BagError as e:  # bagit refused the package it made: a fault of ours, said in one line
        raise click.ClickException(f"the package did not validate; nothing was left at {dest}: {e}") from None
    click.echo(
        f"Exported {made.stories} {'public ' if public_only else ''}stories, {made.media} media files and "
        f"{made.collections} collection(s) to {dest} (BagIt 1.0, validated)."
    )


@click.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check every row and file (through the media ingest too); write nothing."
)
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Import the rows without problems even when other rows have some (each row all or nothing).",
)
@with_appcontext
def import_command(folder: Path, dry_run: bool, skip_bad_rows: bool) -> None:
    """Import a workshop's stories from FOLDER: one sheet (a .csv file, one row per story) and
    the media files beside it. Without --skip-bad-rows nothing is imported if any row has a
    problem. A row whose paper form is already in the archive is skipped: fix and run again.
    Prints each narrator's receipt code once; exit 1 if a row was left out."""
    from flask_babel import force_locale

    from nuevonorte.importer import EventFolder, EventImport, RowResult, report

    # Through the catalogs, in the archive's default language, like the rest of what the workshop reads.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        event = EventImport(
            EventFolder(folder, current_app.config["MAX_CONTENT_LENGTH"]),
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
        )
        handed: list[RowResult] = []
        drawn = sys.stdout.isatty()  # the bar is drawn on a terminal only
        with click.progressbar(length=len(event.pending), label=report.progress_label(dry_run)) as bar:

            def hand_out(row: RowResult) -> None:
                # Printed as soon as its row is committed: a code is never lost to a later crash.
                if drawn:
                    click.echo()  # below the bar, which goes on drawing under the code
                if not handed:
                    click.echo(str(report.RECEIPTS_WARNING))
                handed.append(row)
                click.echo(report.receipt_line(row))

            outcome = event.run(progress=bar.update, hand_out=hand_out)
        for line in report.lines(outcome, refused_whole=event.refused_whole):
            click.echo(line)
    if not outcome.complete:
        sys.exit(1)


@click.command("worker")
@click.option("--drain", is_flag=True, help="Run the jobs waiting now, then exit (for cron or a test).")
@with_appcontext
def worker_command(drain: bool) -> None:
    """Run background jobs (draft transcripts) until stopped with Ctrl-C or SIGTERM."""
    from nuevonorte.jobs import worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if drain:
        click.echo(f"{worker.drain(app)} job(s) run.")
        return
    click.echo("Worker running; stop it with Ctrl-C.")
    worker.run(app)


@click.group("partners")
def partners_group() -> None:
    """Partner archives whose stories this one shows, and that follow its withdrawals
    (docs/partners.md)."""


def _partner_or_fail(url: str) -> Any:
    from sqlalchemy import select

    from nuevonorte.models import Partner
    from nuevonorte.partners import address, registry

    try:
        base = registry.normalised(url)
    except address.BadAddress as bad:
        _fail(f"not a partner's address ({bad.code}): use https://host[/path]")
    found = db.session.scalar(select(Partner).where(Partner.url == base))
    if found is None:
        _fail(f"{base} is not a partner of this archive (see `nuevonorte partners list`)")
    return found


@partners_group.command("add")
@click.argument("url")
@click.option("--yes", is_flag=True, help="Add it without asking to confirm what it says of itself.")
@with_appcontext
def partners_add_command(url: str, yes: bool) -> None:
    """Show the stories of the archive at URL here (after confirming what it says of itself)."""
    from nuevonorte.partners import address, client, registry

    try:
        identity = registry.identify(url)
    except address.BadAddress as bad:
        _fail(f"not a partner's address ({bad.code}): use https://host[/path]")
    except client.Unreachable as unreachable:
        _fail(f"could not read {url} ({unreachable.code}); nothing was added")
    stories = "" if identity.stories is None else f", {identity.stories} public stories"
    kind = "a Nuevo Norte archive" if identity.protocol == "nuevonorte" else "an OAI-PMH repository"
    click.echo(f"{identity.name} — {identity.url} ({kind}{stories})")
    if not yes and not click.confirm("Show its public stories in this archive?"):
        click.echo("Nothing was added.")
        return
    with database.write_intent():
        partner = registry.add(identity)
        db.session.commit()
    click.echo(f"Added. Its first harvest is queued (partner {partner.id}); `nuevonorte worker` runs it.")


@partners_group.command("allow")
@click.argument("url")
@with_appcontext
def partners_allow_command(url: str) -> None:
    """Let the archive at URL subscribe to this one's withdrawal notices (it harvests us)."""
    from nuevonorte.partners import address, registry

    try:
        with database.write_intent():
            partner = registry.allow(url)
            db.session.commit()
    except address.BadAddress as bad:
        _fail(f"not a partner's address ({bad.code}): use https://host[/path]")
    click.echo(f"{partner.url} may now subscribe to this archive's withdrawal notices.")


@partners_group.command("list")
@with_appcontext
def partners_list_command() -> None:
    """Every partner: what we show of it, when it was last read, and what went wrong."""
    from nuevonorte.partners import registry, shown

    counts = registry.story_counts()
    for p in registry.all_partners():
        state = "shown" if shown.partner_is_fresh(p) else ("hidden" if p.harvested else "follows us")
        when = p.confirmed_at.isoformat(timespec="seconds") if p.confirmed_at else "never"
        push = "notices on" if p.subscribed else "no notices"
        follows = ", follows our notices" if p.key_out else ""
        error = f", last problem: {p.last_error}" if p.last_error else ""
        stories = f"{counts.get(p.id, 0)} stories"
        click.echo(f"{p.url}  {p.name} — {state}, {stories}, confirmed {when}, {push}{follows}{error}")


@partners_group.command("remove")
@click.argument("url")
@with_appcontext
def partners_remove_command(url: str) -> None:
    """Forget a partner and every story of it."""
    from nuevonorte.partners import registry
    from nuevonorte.search import sync

    with database.write_intent():
        gone = registry.remove(_partner_or_fail(url))
        db.session.commit()
    sync.follow_now()
    click.echo(f"Removed, with its {len(gone)} stories.")


@partners_group.command("harvest")
@click.argument("url")
@with_appcontext
def partners_harvest_command(url: str) -> None:
    """Read a partner's changes now, in this process."""
    from nuevonorte.partners import client, harvest

    partner_id = _partner_or_fail(url).id
    db.session.rollback()
    try:
        outcome = harvest.harvest(partner_id)
    except client.Unreachable as unreachable:
        _fail(f"the partner could not be read ({unreachable.code}); what was read is kept")
    done = "to the end" if outcome.complete else "in part (run it again)"
    click.echo(f"Read {done}: {outcome.kept} stories kept, {outcome.removed} removed.")


def register_commands(app: Flask) -> None:
    """Attach the commands that need a configured app."""
    for command in (
        create_curator_command,
        demo_command,
        check_command,
        fixity_command,
        sweep_command,
        reindex_command,
        backup_command,
        restore_command,
        export_command,
        import_command,
        worker_command,
        partners_group,
    ):
        app.cli.add_command(command)
