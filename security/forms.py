"""Server-side forms (Flask-WTF adds the CSRF field)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """Username and password; the lengths cap what reaches Argon2 and the audit log."""

    username = StringField(
        "Usuario", validators=[DataRequired("Escriba su usuario."), Length(max=64)]
    )
    password = PasswordField(
        "Contraseña", validators=[DataRequired("Escriba su contraseña."), Length(max=256)]
    )
