"""Login, logout, password change and the language switch."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal import clock
from portal.errors import DomainError
from portal.extensions import db, login_manager
from portal.i18n import LOCALES, normalise
from portal.i18n import lazy_gettext as _l
from portal.models import User
from portal.models.org import TwoFactor
from portal.services import audit
from portal.services import auth as accounts
from portal.views.base import ALL_ROLES, PortalForm, PortalView, expose, show_refusal
from portal.security import log_event

bp = Blueprint("auth", __name__)


class LoginForm(PortalForm):
    username = StringField(
        _l("User name"), validators=[DataRequired(), Length(max=accounts.MAX_USERNAME)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class CodeForm(PortalForm):
    code = StringField(_l("Sign-in code"), validators=[DataRequired(), Length(max=40)])


class ResetForm(PortalForm):
    user_id = IntegerField(_l("User"), validators=[DataRequired()])


class PasswordForm(PortalForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", _l("The two passwords differ."))],
    )


def safe_next(target):
    """A local path to go to after login, or None: never another host."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _security_log(event, username="-", user_id="-"):
    log_event(event, username=username or "-", user=user_id)


@login_manager.user_loader
def _load_user(cookie_id):
    return accounts.load_session_user(cookie_id)


# A user who gave the right password and still owes the second factor: not logged in yet.
PENDING, PENDING_NEXT, PENDING_SINCE = "_2fa_user", "_2fa_next", "_2fa_since"
ENROL_SECRET = "_2fa_secret"


def _refused(template, status=429, **context):
    """The throttle's answer: the same words whether the account exists or not."""
    flash(accounts.Throttled.message, "error")
    return render_template(template, **context), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()  # also reads a JSON body ({"username": ..., "password": ...})
    if form.validate_on_submit():
        try:
            attempt = accounts.begin_attempt(form.username.data, request.remote_addr, "password")
        except accounts.Throttled:
            _security_log("login_throttled", form.username.data)
            return _refused("auth/login.html", form=form)
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            accounts.attempt_passed(attempt)
            target = safe_next(request.args.get("next"))
            if accounts.second_factor_needed(user):
                session.clear()
                session.update(
                    {
                        PENDING: user.get_id(),
                        PENDING_NEXT: target,
                        PENDING_SINCE: clock.now().timestamp(),
                    }
                )
                db.session.commit()
                _security_log("login_password_ok", user.username, user.id)
                return redirect(url_for("auth.second_factor"))
            return _complete_login(user, target)
        db.session.rollback()
        _security_log("login_failure", form.username.data)
        flash(_l("Wrong user name or password."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _complete_login(user, target, response=None):
    session.clear()
    login_user(user)
    accounts.note_login(user)
    audit.record("login", user, site_id=None, summary=user.username)
    db.session.commit()
    _security_log("login_success", user.username, user.id)
    return response or redirect(target or url_for("home.index"))


def _pending_user():
    """The user who gave the right password in this session a short while ago, or None."""
    since = session.get(PENDING_SINCE)
    limit = current_app.config["TWO_FACTOR_PENDING_MINUTES"] * 60
    if since is None or clock.now().timestamp() - float(since) > limit:
        return None
    return accounts.load_session_user(session.get(PENDING))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        for key in (PENDING, PENDING_NEXT, PENDING_SINCE, ENROL_SECRET):
            session.pop(key, None)
        flash(_l("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    if accounts.two_factor_of(user) is None:
        return _enrol_at_login(user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            attempt = accounts.begin_attempt(user.username, request.remote_addr, "code")
        except accounts.Throttled:
            _security_log("login_throttled", user.username, user.id)
            return _refused("auth/second_factor.html", form=form)
        if accounts.verify_second_factor(user, form.code.data):
            accounts.attempt_passed(attempt)
            return _complete_login(user, session.get(PENDING_NEXT))
        db.session.rollback()
        _security_log("second_factor_failure", user.username, user.id)
        form.code.errors = [_l("This code is not correct, or it was used already.")]
        return render_template("auth/second_factor.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/second_factor.html", form=form), status


def _enrolment(user, form, render):
    """Show the QR code of a new secret (kept in the session until a code proves it), or enrol.
    Returns (recovery codes or None, response or None)."""
    secret = session.get(ENROL_SECRET) or accounts.new_secret()
    session[ENROL_SECRET] = secret
    status = 200
    if form.validate_on_submit():
        try:
            attempt = accounts.begin_attempt(user.username, request.remote_addr, "code")
        except accounts.Throttled:
            _security_log("login_throttled", user.username, user.id)
            flash(accounts.Throttled.message, "error")
            status = 429
        else:
            try:
                codes = accounts.enrol(user, secret, form.code.data)
            except accounts.CodeRejected as exc:
                db.session.rollback()
                form.code.errors = [str(exc)]
                status = 400
            else:
                accounts.attempt_passed(attempt)
                session.pop(ENROL_SECRET, None)
                _security_log("two_factor_enrolled", user.username, user.id)
                return codes, None
    elif request.method == "POST":
        status = 400
    page = render(form=form, secret=secret, qr=accounts.qr_code_data_uri(user, secret))
    return None, (page, status)


def _enrol_at_login(user):
    codes, page = _enrolment(
        user, CodeForm(), lambda **ctx: render_template("auth/enrol.html", **ctx)
    )
    if page is not None:
        return page
    target = session.get(PENDING_NEXT)
    shown = render_template(
        "auth/recovery_codes.html", codes=codes, target=target or url_for("home.index")
    )
    return _complete_login(user, target, response=shown)


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


def _enrolled_users():
    """For head office: the users who have a second factor, which it can reset."""
    if current_user.role != "admin":
        return []
    stmt = (
        select(User, TwoFactor.enrolled_at)
        .join(TwoFactor, TwoFactor.user_id == User.id)
        .order_by(User.username)
    )
    return db.session.execute(stmt).all()


class AccountView(PortalView):
    """The user's own account: password change and the second factor."""

    read_roles = ALL_ROLES

    def is_visible(self):
        return False

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = PasswordForm()
        status = 200
        if form.validate_on_submit():
            try:
                accounts.change_password(
                    current_user, form.current.data, form.new.data, request.remote_addr
                )
            except accounts.Throttled as exc:
                _security_log("password_check_throttled", current_user.username, current_user.id)
                form.current.errors = [str(exc.message)]
                status = 429
            except DomainError as exc:
                if exc.field == "current":  # a wrong current password: a guess, logged
                    _security_log("password_check_failure", current_user.username, current_user.id)
                show_refusal(exc, form)
                status = exc.status
            else:
                db.session.commit()
                # The token rotated: log in again here so this browser keeps working.
                login_user(current_user._get_current_object())
                flash(
                    _l("Your password has been changed. Other sessions have been logged out."),
                    "success",
                )
                return redirect(url_for("home.index"))
        elif request.method == "POST":
            status = 400
        page = self.render(
            "account/password.html",
            form=form,
            locales=LOCALES,
            enrolled=_enrolled_users(),
            two_factor=accounts.two_factor_of(current_user),
        )
        return page, status

    @expose("/two-factor", methods=("GET", "POST"))
    def two_factor(self):
        user = current_user._get_current_object()
        if accounts.two_factor_of(user) is None:
            codes, page = _enrolment(
                user, CodeForm(), lambda **ctx: self.render("account/enrol.html", **ctx)
            )
            if page is not None:
                return page
            db.session.commit()
            return self.render("account/recovery_codes.html", codes=codes)
        return self._two_factor_page(CodeForm())

    def _two_factor_page(self, form, status=200):
        page = self.render(
            "account/two_factor.html",
            form=form,
            two_factor=accounts.two_factor_of(current_user),
            codes_left=accounts.recovery_codes_left(current_user),
        )
        return page, status

    @expose("/two-factor/codes", methods=("POST",))
    def new_codes(self):
        """New recovery codes, after a code from the authenticator (or a recovery code)."""
        user = current_user._get_current_object()
        if accounts.two_factor_of(user) is None:
            return redirect(url_for(".two_factor"))  # nothing to renew: set it up first
        form = CodeForm()
        if not form.validate_on_submit():
            return self._two_factor_page(form, 400)
        try:
            attempt = accounts.begin_attempt(user.username, request.remote_addr, "code")
        except accounts.Throttled as exc:
            _security_log("second_factor_throttled", user.username, user.id)
            form.code.errors = [str(exc.message)]
            return self._two_factor_page(form, 429)
        if not accounts.verify_second_factor(user, form.code.data):
            db.session.rollback()
            _security_log("second_factor_failure", user.username, user.id)
            form.code.errors = [_l("This code is not correct, or it was used already.")]
            return self._two_factor_page(form, 400)
        accounts.attempt_passed(attempt)
        codes = accounts.new_recovery_codes(user)
        audit.record("recovery_codes_renewed", user, site_id=None, summary=user.username)
        db.session.commit()
        return self.render("account/recovery_codes.html", codes=codes)

    @expose("/two-factor/reset", methods=("POST",))
    def reset(self):
        """Head office forgets a user's authenticator (a lost phone); audited."""
        if current_user.role != "admin":
            abort(403)
        form = ResetForm()
        if not form.validate_on_submit():
            abort(400)
        user = db.session.get(User, form.user_id.data)
        if user is None:
            abort(404)
        accounts.reset_second_factor(user)
        db.session.commit()
        _security_log("two_factor_reset", user.username, user.id)
        message = _l(
            "The second factor of %(name)s has been reset: it is set up again at the next login.",
            name=str(user),
        )
        flash(message, "success")
        return redirect(url_for(".index"))


def register(app, admin):
    app.register_blueprint(bp)
    admin.add_view(AccountView(name=_l("My account"), endpoint="account", url="/account"))
