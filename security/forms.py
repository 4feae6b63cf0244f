"""Server-side forms (Flask-WTF adds the CSRF field)."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class PageForm(FlaskForm):
    """A form posted by a page: read from the form body only, never from a JSON body.

    Flask-WTF would also read JSON, whose values need not be text (`{"password": true}`
    made the length check raise, a 500); a page never sends it.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: FlaskForm, formdata: object) -> object:
            """The posted form fields, or None (an unsubmitted or JSON request)."""
            if request.is_json:
                return None
            return super().wrap_formdata(form, formdata)


class LoginForm(PageForm):
    """Username and password; the lengths cap what reaches Argon2 and the audit log."""

    username = StringField(
        "Usuario", validators=[DataRequired("Escriba su usuario."), Length(max=64)]
    )
    password = PasswordField(
        "Contraseña", validators=[DataRequired("Escriba su contraseña."), Length(max=256)]
    )


class SetupForm(PageForm):
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
