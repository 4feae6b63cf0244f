"""`flask users ...`: manage accounts from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from security import AccountError
from security.accounts import create_user, get_user, list_users, unlock, update_user
from security.models import ROLES

users = AppGroup("users", help="Gestionar cuentas de usuario.")


def _run(action, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return action(*args, **kwargs)
    except AccountError as exc:
        raise click.ClickException(exc.message) from None


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="usuario")
@click.password_option()
def create_command(username: str, role: str, password: str) -> None:
    """Create an account (the password must pass the policy)."""
    user = _run(create_user, username, password, role)
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
    _run(update_user, _run(get_user, username), role=role)
    click.echo(f"{username} ahora es {role}.")


@users.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account (ends its sessions)."""
    _run(update_user, _run(get_user, username), active=False)
    click.echo(f"{username} desactivado.")


@users.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Enable an account."""
    _run(update_user, _run(get_user, username), active=True)
    click.echo(f"{username} activado.")


@users.command("reset-password")
@click.argument("username")
@click.password_option()
def reset_password_command(username: str, password: str) -> None:
    """Set a new password (ends the user's sessions)."""
    _run(update_user, _run(get_user, username), password=password)
    click.echo(f"Contraseña de {username} cambiada.")


@users.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Lift a login lockout."""
    _run(unlock, _run(get_user, username))
    click.echo(f"{username} desbloqueado.")


def init_app(app: Flask) -> None:
    """Register the CLI group."""
    app.cli.add_command(users)
