"""Every setting, read from the process environment (and `.env` when present) and checked here.

Parsing is strict: a malformed boolean, number, address or list raises ConfigError at
start-up instead of being guessed, because a silently wrong security setting is worse
than a refusal to start. `python app.py` turns a ConfigError into one line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import tempfile
from pathlib import Path

from dotenv import load_dotenv
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_ALLOWED_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")
ASYNC_MODES = ("eventlet", "gevent")
TLS_MODES = ("auto", "off")
# 256 random bits: no one guesses a session signature or forges the audit chain.
GENERATED_SECRET_BYTES = 32
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the server must not start."""


def env_str(name: str, default: str | None = None) -> str | None:
    """Read a string setting; an empty value counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean setting; anything but a clear yes/no raises ConfigError."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """Read a whole number within [minimum, maximum]; anything else raises ConfigError."""
    value = _env_number(name, int, "a whole number")
    if value is None:
        return default
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bounds}, not {value}")
    return value


def env_positive(name: str, default: float) -> float:
    """Read a number above zero (fractions allowed); anything else raises ConfigError."""
    value = _env_number(name, float, "a number")
    if value is None:
        return default
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be above zero, not {value}")
    return value


def _env_number(name: str, convert: type[int] | type[float], kind: str) -> int | float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return convert(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, not {raw!r}") from None


def env_list(name: str) -> list[str]:
    """Read a comma-separated setting into a list without empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Read one of `choices`; anything else raises ConfigError."""
    value = env_str(name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_rate_limits(name: str, default: str) -> str:
    """Read a Flask-Limiter limit string such as '200 per day;50 per hour'."""
    value = env_str(name, default)
    try:
        if parse_many(value):
            return value
    except ValueError:
        pass
    raise ConfigError(f"{name} must look like '200 per day;50 per hour', not {value!r}")


def env_database_url(name: str, default: str) -> str:
    """Read an SQLAlchemy database URL; one it cannot parse raises ConfigError."""
    value = env_str(name, default)
    try:
        make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL: {value!r}") from None
    return value


def env_redis_url(name: str) -> str | None:
    """Read a Redis URL (redis://, rediss:// or unix://), or None when unset."""
    value = env_str(name)
    if value is not None and not value.startswith(REDIS_SCHEMES):
        raise ConfigError(f"{name} must start with {', '.join(REDIS_SCHEMES)}, not {value!r}")
    return value


def env_allowed_types(name: str) -> dict[str, frozenset[str]] | None:
    """Read 'application/pdf:pdf;image/jpeg:jpg,jpeg' into type -> extensions, or None."""
    spec = env_str(name)
    if spec is None:
        return None
    allowed: dict[str, frozenset[str]] = {}
    for entry in spec.split(";"):
        mime, colon, extension_list = entry.strip().lower().partition(":")
        extensions = frozenset(extension.strip() for extension in extension_list.split(","))
        if not colon or not _ALLOWED_TYPE.fullmatch(mime):
            raise ConfigError(f"{name} entry is not 'type/subtype:ext[,ext]': {entry!r}")
        if not all(_EXTENSION.fullmatch(extension) for extension in extensions):
            raise ConfigError(f"{name} entry {entry!r} has a malformed extension")
        if mime in allowed:
            raise ConfigError(f"{name} lists {mime} twice")
        allowed[mime] = extensions
    return allowed


def env_existing_file(name: str) -> str | None:
    """Read the path of a file that must exist and be readable, or None when unset."""
    value = env_str(name)
    if value is not None and not os.access(value, os.R_OK):
        raise ConfigError(f"{name} names a file that cannot be read: {value}")
    return value


def stored_secret(name: str, folder: str) -> str:
    """The secret from the environment, else the one generated into `folder` on first start.

    Written once (mode 0600) and reused, so sessions and the audit chain survive restarts;
    linked into place, so two processes starting at once end up with the same key.
    """
    if value := env_str(name):
        return value
    path = Path(folder) / name.lower()
    try:
        Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            _write_new_secret(path)
        path.chmod(0o600)
        value = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(f"{name} is unset and cannot be kept in {folder}: {exc}") from None
    if not value:
        raise ConfigError(f"{path} is empty: delete it and PiChat makes a new {name}")
    return value


def _write_new_secret(path: Path) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(GENERATED_SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process linked its key first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def outside_static(name: str, folder: str) -> str:
    """Refuse a data folder inside static/, whose files anyone can fetch without logging in."""
    static = os.path.realpath(BASE_DIR / "static")
    if os.path.commonpath([os.path.realpath(folder), static]) == static:
        raise ConfigError(f"{name} must not be inside {static}: its files would be served")
    return folder


class Config:
    """Settings shared by every mode."""

    # Whether this mode serves HTTPS when TLS is not set (production: yes, from a local CA).
    TLS_BY_DEFAULT = False

    def __init__(self) -> None:
        self._storage()
        self._server()
        self._accounts_and_limits()
        self._files()
        self._audit()
        self._cookies_and_forms()

    def _server(self) -> None:
        # Signs sessions and CSRF tokens; never a constant in the code, in any mode.
        self.SECRET_KEY = stored_secret("SECRET_KEY", self.INSTANCE_DIR)
        # Werkzeug's debugger runs any code a visitor types: never outside a developer's desk.
        self.DEBUG = env_bool("DEBUG")
        # A LAN chat serves the LAN; HOST narrows it (127.0.0.1 behind a local proxy).
        self.HOST = env_str("HOST", "0.0.0.0")  # noqa: S104
        self.PORT = env_int("PORT", 8080, minimum=1, maximum=65535)
        # eventlet stops answering HTTP past its default 1024 sockets; chat holds one each.
        self.MAX_CONNECTIONS = env_int("MAX_CONNECTIONS", 5000, minimum=1)
        self.ASYNC_MODE = env_choice("PICHAT_ASYNC_MODE", "eventlet", ASYNC_MODES)
        self.REDIS_URL = env_redis_url("REDIS_URL")
        # Socket.IO refuses other origins: another site open in a staff browser must not
        # be able to chat with that person's session (cross-site WebSocket hijacking).
        self.ALLOWED_ORIGINS = env_list("ALLOWED_ORIGINS")
        # How many reverse proxies (nginx) stand in front: their X-Forwarded-For is trusted
        # that many hops deep. 0 trusts none, so a client cannot fake its address directly.
        self.TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
        # A connection that has not sent its request headers (or TLS handshake) by then is
        # closed: idle or trickling clients cannot hold the server's connection slots.
        self.HTTP_HEADER_TIMEOUT = env_positive("HTTP_HEADER_TIMEOUT", 10.0)
        # Connections one client address may hold open: a single machine cannot take the whole
        # MAX_CONNECTIONS ceiling (a LAN chat user needs a few). Not applied behind a trusted
        # proxy, where every connection comes from the proxy: limit them in nginx there.
        self.MAX_CONNECTIONS_PER_IP = env_int("MAX_CONNECTIONS_PER_IP", 100, minimum=1)
        self._tls()

    def _tls(self) -> None:
        self.TLS_CERT = env_existing_file("TLS_CERT")
        self.TLS_KEY = env_existing_file("TLS_KEY")
        if bool(self.TLS_CERT) != bool(self.TLS_KEY):
            raise ConfigError("TLS_CERT and TLS_KEY go together: set both or neither")
        default = "auto" if self.TLS_BY_DEFAULT or self.TLS_CERT else "off"
        self.TLS = env_choice("TLS", default, TLS_MODES)
        if self.TLS == "off" and self.TLS_CERT:
            raise ConfigError("TLS=off but TLS_CERT is set: unset one of them")
        # Extra names (DNS or IP) the local CA's server certificate carries, e.g. pichat.lan.
        self.TLS_NAMES = env_list("TLS_NAMES")

    def _storage(self) -> None:
        self.INSTANCE_DIR = env_str("INSTANCE_DIR", str(BASE_DIR / "instance"))
        self.SQLALCHEMY_DATABASE_URI = env_database_url(
            "DATABASE_URL", f"sqlite:///{Path(self.INSTANCE_DIR) / 'pichat.db'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.QUARANTINE_DIR = outside_static(
            "QUARANTINE_DIR", env_str("QUARANTINE_DIR", str(BASE_DIR / "cuarentena"))
        )
        self.LOG_DIR = outside_static("LOG_DIR", env_str("LOG_DIR", str(BASE_DIR / "logs")))

    def _accounts_and_limits(self) -> None:
        # A login left open on a shared machine ends after this long without a request or
        # a connected chat socket, and any login after SESSION_MAX_HOURS.
        self.SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 480, minimum=1)
        self.SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 168, minimum=1)
        self.ADMIN_USER = env_str("ADMIN_USER", "admin")
        self.ADMIN_PASS = env_str("ADMIN_PASS")
        self.SEED_DEMO_USERS = False
        # Each login holds a core for ~20 ms; leave one core to the event loop.
        self.PASSWORD_HASH_CONCURRENCY = env_int(
            "PASSWORD_HASH_CONCURRENCY", max(1, (os.cpu_count() or 2) - 1), minimum=1
        )
        # Per IP when anonymous, per account otherwise: one client cannot exhaust the server.
        self.RATELIMIT_DEFAULT = env_rate_limits("RATELIMIT_DEFAULT", "200 per day;50 per hour")
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        # A person types a few events a second; a script sending more only burns the loop.
        self.CHAT_EVENTS_PER_SECOND = env_int("CHAT_EVENTS_PER_SECOND", 10, minimum=1)
        self.CHAT_EVENTS_BURST = env_int("CHAT_EVENTS_BURST", 20, minimum=1)
        # Each room password costs an Argon2 hash: per account, across all its sockets.
        self.ROOM_ATTEMPTS_PER_MINUTE = env_int("ROOM_ATTEMPTS_PER_MINUTE", 10, minimum=1)
        # Persistent rooms keep history in the database: one account cannot fill it.
        self.MAX_ROOMS_PER_USER = env_int("MAX_ROOMS_PER_USER", 20, minimum=1)
        # The longest any persistent room keeps a message, whatever its creator chose: an
        # organisation's data-retention rule (e.g. 365). 0 keeps messages until deleted.
        self.HISTORY_MAX_DAYS = env_int("HISTORY_MAX_DAYS", 0, maximum=36500)
        # Expired messages are purged by a background task (tests run its passes themselves).
        self.HISTORY_BACKGROUND_SWEEP = True
        # Sockets one account may hold (tabs, phones): each has its own event budget.
        self.MAX_SOCKETS_PER_USER = env_int("MAX_SOCKETS_PER_USER", 20, minimum=1)
        # An account with no socket for this long leaves its ephemeral rooms (they live only
        # in memory or Redis, so someone who never comes back must not hold them open).
        self.ROOM_AWAY_MINUTES = env_int("ROOM_AWAY_MINUTES", 60, minimum=1)
        # Presence changes within this window go out as one broadcast: a connect storm of N
        # sockets then costs a few lists to everyone, not N (0: each change at once).
        self.PRESENCE_BATCH_SECONDS = 0.25

    def _files(self) -> None:
        # Bounds one upload's disk use and the time a scan of it takes.
        self.MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 16, minimum=1)
        # What one account may keep in MicroNAS, and the disk space uploads never eat into
        # (the database, the audit trail and the system need it): past either, 507.
        self.UPLOAD_QUOTA_MB = env_int("UPLOAD_QUOTA_MB", 2048, minimum=1)
        self.MIN_FREE_DISK_MB = env_int("MIN_FREE_DISK_MB", 512, minimum=0)
        # Werkzeug's cap on a whole request body: the file plus 1 MB for the multipart
        # envelope (boundaries, part headers, the CSRF field), so a file of exactly
        # MAX_UPLOAD_MB fits; the quarantine enforces the file's own limit byte-exact.
        self.MAX_CONTENT_LENGTH = (self.MAX_UPLOAD_MB + 1) * 1024 * 1024
        # None: MicroNAS's own allow-list. Executables, scripts and markup are refused
        # whatever this says (nas/sniff.py checks it at start).
        self.ALLOWED_TYPES = env_allowed_types("ALLOWED_TYPES")
        self.CLAMD_SOCKET = env_str("CLAMD_SOCKET")
        self.CLAMD_HOST = env_str("CLAMD_HOST")
        if self.CLAMD_SOCKET and self.CLAMD_HOST:
            raise ConfigError("set CLAMD_SOCKET or CLAMD_HOST, not both")
        self.CLAMD_PORT = env_int("CLAMD_PORT", 3310, minimum=1, maximum=65535)
        # A hung daemon must not hold a scan forever: past this the file stays pending.
        self.CLAMD_TIMEOUT = env_positive("CLAMD_TIMEOUT", 30.0)
        self.SCAN_BLOCKLIST = env_existing_file("SCAN_BLOCKLIST")
        # Scanner down: pending files are retried this often (doubling up to 8 times it).
        self.SCAN_RETRY_SECONDS = env_int("SCAN_RETRY_SECONDS", 30, minimum=1)
        # Tests scan in the request (inline) or drive passes themselves (no background task).
        self.NAS_SCAN_INLINE = False
        self.NAS_BACKGROUND_SCAN = True

    def _audit(self) -> None:
        # Without a secret key anyone who can edit the file could recompute the HMAC chain;
        # not the session key, so whoever holds one cannot forge the other.
        self.AUDIT_KEY = stored_secret("AUDIT_KEY", self.INSTANCE_DIR)
        # Rotation bounds the trail's disk use: AUDIT_MAX_MB × (AUDIT_BACKUP_COUNT + 1).
        self.AUDIT_MAX_MB = env_positive("AUDIT_MAX_MB", 10.0)
        self.AUDIT_BACKUP_COUNT = env_int("AUDIT_BACKUP_COUNT", 5, minimum=1)
        # A copy of every row in syslog, ideally on another machine: whoever can edit or
        # delete LOG_DIR cannot take it back. /dev/log, udp://host:514 or tcp://host:514.
        self.AUDIT_SYSLOG = env_str("AUDIT_SYSLOG")
        network = re.fullmatch(r"(?:udp|tcp)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})",
                               self.AUDIT_SYSLOG or "")
        if self.AUDIT_SYSLOG and not self.AUDIT_SYSLOG.startswith("/") and not (
            network and 0 < int(network.group(2)) < 65536
        ):
            raise ConfigError("AUDIT_SYSLOG must be a socket path like /dev/log, "
                              f"udp://host:port or tcp://host:port, not {self.AUDIT_SYSLOG!r}")
        # Rows wait in memory at most this many or this long; security events never wait.
        self.AUDIT_BUFFER_ROWS = 100
        self.AUDIT_FLUSH_SECONDS = 1.0

    def _cookies_and_forms(self) -> None:
        # JavaScript never reads the session cookie (an injected script cannot steal it),
        # and other sites' forms do not send it (CSRF's first line).
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # CSRF tokens never expire: the chat page stays open for days, and the token is
        # bound to the session, which ends on logout or any change to the account.
        self.WTF_CSRF_TIME_LIMIT = None

    def validate(self) -> None:
        """Refuse settings that would make this mode unsafe."""
        if self.DEBUG and not is_loopback(self.HOST):
            raise ConfigError(
                f"DEBUG only with HOST=127.0.0.1 (not {self.HOST}): the debugger runs any "
                "code a visitor sends"
            )


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class DevelopmentConfig(Config):
    """The original PiChat's demo: demo accounts, plain HTTP, a warning on every page."""

    def __init__(self) -> None:
        super().__init__()
        self.SEED_DEMO_USERS = True


class TestingConfig(DevelopmentConfig):
    """The test suite: demo accounts and every protection on, as in production."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        # In-process tests drive sockets through Flask-SocketIO's test client, unpatched.
        self.ASYNC_MODE = "threading"
        self.NAS_BACKGROUND_SCAN = False
        self.HISTORY_BACKGROUND_SWEEP = False
        # The test client reads what was emitted right after each call.
        self.PRESENCE_BATCH_SECONDS = 0.0


class ProductionConfig(Config):
    """Real deployments: HTTPS (here or at a proxy), no demo accounts, no debugger."""

    TLS_BY_DEFAULT = True

    def __init__(self) -> None:
        super().__init__()
        # Cookies travel only over HTTPS: on plain HTTP anyone on the LAN could copy them.
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True

    def validate(self) -> None:
        """No debugger; plain HTTP only behind a TLS proxy that PiChat trusts."""
        super().validate()
        if self.DEBUG:
            raise ConfigError("DEBUG must be off in production: it exposes tracebacks")
        if self.TLS == "off" and self.TRUSTED_PROXIES < 1:
            raise ConfigError(
                "TLS=off needs a TLS proxy in front and TRUSTED_PROXIES=1 or more: "
                "Secure cookies never come back over plain HTTP, so nobody could log in"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build and validate the settings for `name` (default: PICHAT_ENV, else production)."""
    name = name or env_str("PICHAT_ENV", "production")
    if name not in CONFIGS:
        raise ConfigError(f"PICHAT_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    config = CONFIGS[name]()
    config.validate()
    return config
