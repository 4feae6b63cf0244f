"""`flask users ...`: manage accounts from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from errors import Refusal
from security.accounts import create_user, get_user, list_users, unlock, update_user
from security.certificates import CertificateError, describe, renew
from security.models import ROLES
from security.tls import certificate_names, tls_dir, uses_local_ca


class CommandGroup(AppGroup):
    """A command group whose refusals end the command with their message in one line."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a refusal becomes click's one-line error and exit status 1."""
        try:
            return super().invoke(ctx)
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
        except CertificateError as exc:
            raise click.ClickException(str(exc)) from None


users = CommandGroup("users", help="Gestionar cuentas de usuario.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="usuario")
@click.password_option()
def create_command(username: str, role: str, password: str) -> None:
    """Create an account (the password must pass the policy)."""
    user = create_user(username, password, role)
    click.echo(f"Creado {user.username} ({user.role}).")


@users.command("list")
def list_command() -> None:
    """List every account."""
    for user in list_users():
        state = "activo" if user.active else "desactivado"
        locked = " bloqueado" if user.lock_remaining() else ""
        click.echo(f"{user.username}\t{user.role}\t{state}{locked}")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(username: str, role: str) -> None:
    """Change a user's role (ends their sessions)."""
    update_user(get_user(username), role=role)
    click.echo(f"{username} ahora es {role}.")


@users.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account (ends its sessions)."""
    update_user(get_user(username), active=False)
    click.echo(f"{username} desactivado.")


@users.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Enable an account."""
    update_user(get_user(username), active=True)
    click.echo(f"{username} activado.")


@users.command("reset-password")
@click.argument("username")
@click.password_option()
def reset_password_command(username: str, password: str) -> None:
    """Set a new password (ends the user's sessions)."""
    update_user(get_user(username), password=password)
    click.echo(f"Contraseña de {username} cambiada.")


@users.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Lift a login lockout."""
    unlock(get_user(username))
    click.echo(f"{username} desbloqueado.")


tls = CommandGroup("tls", help="Certificado HTTPS de la autoridad local de PiChat.")


@tls.command("show")
def tls_show_command() -> None:
    """Print the certificate's names, expiry and fingerprints."""
    info = describe(_local_tls_dir())
    click.echo(f"Nombres: {', '.join(info.names)}")
    click.echo(f"Caduca: {info.not_after:%Y-%m-%d %H:%M} UTC (quedan {info.days_left} días)")
    click.echo(f"Huella SHA-256 de la CA: {info.ca_fingerprint}")
    click.echo(f"Huella SHA-256 del servidor: {info.server_fingerprint}")


@tls.command("renew")
def tls_renew_command() -> None:
    """Issue a new server certificate from the local CA (restart PiChat to serve it)."""
    renew(_local_tls_dir(), certificate_names(current_app.config))
    click.echo("Certificado renovado; reinicie PiChat para usarlo.")


def _local_tls_dir() -> Path:
    if not uses_local_ca(current_app.config):
        raise Refusal(409, "no_local_ca",
                      "Este servidor no usa la CA local (TLS=off o TLS_CERT definido).")
    return tls_dir(current_app.config)


def init_app(app: Flask) -> None:
    """Register the CLI groups."""
    app.cli.add_command(users)
    app.cli.add_command(tls)
