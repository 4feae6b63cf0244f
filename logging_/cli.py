"""The ``flask audit`` command group."""

import click
from flask import current_app
from flask.cli import AppGroup

from logging_ import audit_key
from logging_.verify import verify

audit_cli = AppGroup("audit", help="Registro de auditoría.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Comprueba seq, cadena HMAC, enlaces entre archivos y audit.head del registro."""
    logger = current_app.extensions.get("audit")
    filename = "audit.csv"
    if logger is not None:
        logger.flush()
        filename = logger.filename
    result = verify(current_app.config["LOG_DIR"], audit_key(current_app.config), filename)
    if not result.ok:
        click.echo(f"fallo: {result.file}, línea {result.line}: {result.reason}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(result.reason)
