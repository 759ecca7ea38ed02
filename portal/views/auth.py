"""Login, logout, password change and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from portal.i18n import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.extensions import db, limiter, login_manager
from portal.i18n import LOCALES, normalise
from portal.services import audit
from portal.services import auth as accounts
from portal.views.base import ALL_ROLES, PortalView, expose

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=accounts.MAX_USERNAME)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("new", _l("The two passwords differ."))]
    )


def safe_next(target):
    """A local path to go to after login, or None: never another host."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_key():
    # Failures are counted per account and address: one clerk mistyping does not lock the office.
    name = (request.form.get("username") or "").strip().lower()[:64]
    return f"login:{name}|{request.remote_addr}"


def _security_log(event, username="-", user_id="-"):
    from portal.security import log_event

    log_event(event, username=username or "-", user=user_id)


@login_manager.user_loader
def _load_user(cookie_id):
    return accounts.load_session_user(cookie_id)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda resp: resp.status_code == 401,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            audit.record("login", user, site_id=None, summary=user.username)
            db.session.commit()
            _security_log("login_success", user.username, user.id)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        db.session.rollback()
        _security_log("login_failure", form.username.data)
        flash(_l("Wrong user name or password."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(429)
def _too_many(e):
    _security_log("login_throttled", request.form.get("username"))
    flash(_l("Too many failed attempts. Please wait 15 minutes and try again, or ask head office."), "error")
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.post("/logout")
@login_required
def logout():
    # Rotating the token also ends a copy of this cookie held anywhere else.
    accounts.end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_l("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    lang = normalise(request.form.get("lang")) or "zh_Hans_CN"
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))


class AccountView(PortalView):
    """The user's own account: password change."""

    read_roles = ALL_ROLES

    def is_visible(self):
        return False

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = PasswordForm()
        status = 200
        if form.validate_on_submit():
            try:
                accounts.change_password(current_user, form.current.data, form.new.data)
            except accounts.PasswordRejected as exc:
                form.new.errors = [str(exc)]
                db.session.rollback()
                status = 400
            else:
                db.session.commit()
                # The token rotated: log in again here so this browser keeps working.
                login_user(current_user._get_current_object())
                flash(_l("Your password has been changed. Other sessions have been logged out."), "success")
                return redirect(url_for("home.index"))
        elif request.method == "POST":
            status = 400
        return self.render("account/password.html", form=form, locales=LOCALES), status


def register(app, admin):
    app.register_blueprint(bp)
    admin.add_view(AccountView(name=_l("My account"), endpoint="account", url="/account"))
