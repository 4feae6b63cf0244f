"""Server-side forms (Flask-WTF adds the CSRF field)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Username and password; the lengths cap what reaches Argon2 and the audit log."""

    username = StringField(
        "Usuario", validators=[DataRequired("Escriba su usuario."), Length(max=64)]
    )
    password = PasswordField(
        "Contraseña", validators=[DataRequired("Escriba su contraseña."), Length(max=256)]
    )


class SetupForm(FlaskForm):
    """The first administrator: name and password twice; the one-time token rides along."""

    token = HiddenField()
    username = StringField(
        "Usuario", validators=[DataRequired("Escriba un nombre de usuario."), Length(max=64)]
    )
    password = PasswordField(
        "Contraseña", validators=[DataRequired("Escriba una contraseña."), Length(max=256)]
    )
    password_again = PasswordField(
        "Repita la contraseña",
        validators=[EqualTo("password", "Las dos contraseñas no coinciden.")],
    )
