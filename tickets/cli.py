"""Operator commands: staff tokens and provisional deadlines.

``tokens`` and ``deadlines`` are click groups that ``yiwen`` mounts
(``yiwen tokens create --role county --county 新会区``); ``python -m tickets.cli`` runs
them without the rest of Yiwen. The new token goes alone to stdout, so scripts can capture
it; everything else goes to stderr.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select

from core.places import COUNTIES
from core.settings import get_settings
from tickets import migrate
from tickets.db import Database, make_database
from tickets.models import StaffToken
from tickets.services.auth import issue_token
from tickets.services.deadlines import WorkCalendar
from tickets.services.intake import recompute_provisional
from tickets.services.messages import message


def _database() -> Database:
    db = make_database(get_settings().tickets)
    migrate.upgrade(db.engine)
    return db


@click.group(help=message("cli.tokens_help"))
def tokens() -> None:
    """Staff bearer tokens."""


@tokens.command("create", help=message("cli.create_help"))
@click.option("--role", type=click.Choice(["county", "admin", "editor"]), required=True)
@click.option("--county", type=click.Choice(COUNTIES), default=None)
@click.option("--name", default=None, help=message("cli.name_help"))
def create_token(role: str, county: str | None, name: str | None) -> None:
    if role == "county" and county is None:
        raise click.UsageError(message("cli.needs_county", counties="、".join(COUNTIES)))
    if role in ("admin", "editor") and county is not None:
        raise click.UsageError(message("cli.admin_no_county"))
    db = _database()
    with db.writing() as session:
        row, secret = issue_token(
            session,
            role=role,
            county=county,
            name=name or (county or role),
            now=dt.datetime.now(dt.UTC),
        )
        token_id = row.id
    click.echo(message("cli.created", id=token_id, role=role, county=county or "-"), err=True)
    click.echo(secret)


@tokens.command("list", help=message("cli.list_help"))
def list_tokens() -> None:
    db = _database()
    with db.reading() as session:
        rows = session.scalars(select(StaffToken).order_by(StaffToken.id)).all()
        for row in rows:
            state = "revoked" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.role}\t{row.county or '-'}\t{row.name}\t{state}")


@tokens.command("revoke", help=message("cli.revoke_help"))
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    db = _database()
    with db.writing() as session:
        row = session.get(StaffToken, token_id)
        if row is None:
            raise click.ClickException(message("cli.no_such_token", id=token_id))
        row.revoked_at = dt.datetime.now(dt.UTC)
    click.echo(message("cli.revoked", id=token_id), err=True)


@click.group(help=message("cli.deadlines_help"))
def deadlines() -> None:
    """Statutory deadlines."""


@deadlines.command("recompute", help=message("cli.recompute_help"))
def recompute() -> None:
    settings = get_settings().tickets
    calendar = WorkCalendar.from_file(settings.holidays_file)
    changed = recompute_provisional(_database(), calendar, settings)
    click.echo(message("cli.recomputed", count=len(changed)), err=True)
    for ticket_no in changed:
        click.echo(ticket_no)


@deadlines.command("check", help=message("cli.check_help"))
@click.argument("year", type=int)
def check_year(year: int) -> None:
    calendar = WorkCalendar.from_file(get_settings().tickets.holidays_file)
    if calendar.covers(year):
        click.echo(message("cli.covered", year=year))
    else:
        raise click.ClickException(
            message("cli.not_covered", year=year, path=calendar.holidays_file)
        )


@click.group()
def cli() -> None:
    """Ticket service commands."""


cli.add_command(tokens)
cli.add_command(deadlines)

if __name__ == "__main__":
    cli()
