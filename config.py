"""Settings for each mode, read from the process environment (and `.env` when present).

Parsing is strict: a malformed boolean or number raises at start-up instead of being
guessed, because a silently wrong security setting is worse than a refusal to start.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the server must not start."""


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


def env_int(name: str, default: int) -> int:
    """Read an integer setting; a non-number raises ConfigError."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str) -> list[str]:
    """Read a comma-separated setting into a list without empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_str(name: str, default: str | None = None) -> str | None:
    """Read a string setting; an empty value counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


class Config:
    """Settings shared by every mode."""

    ENV_NAME = "base"

    def __init__(self) -> None:
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.DEBUG = env_bool("DEBUG")
        self.HOST = env_str("HOST", "0.0.0.0")
        self.PORT = env_int("PORT", 8080)
        self.MAX_CONNECTIONS = env_int("MAX_CONNECTIONS", 5000)
        self.ASYNC_MODE = env_str("PICHAT_ASYNC_MODE", "eventlet")
        self.SQLALCHEMY_DATABASE_URI = env_str(
            "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'pichat.db'}"
        )
        self.REDIS_URL = env_str("REDIS_URL")
        self.ALLOWED_ORIGINS = env_list("ALLOWED_ORIGINS")
        # How many reverse proxies (nginx) stand in front: their X-Forwarded-For is trusted
        # that many hops deep. 0 trusts none, so a client cannot fake its address directly.
        self.TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
        self.ADMIN_USER = env_str("ADMIN_USER", "admin")
        self.ADMIN_PASS = env_str("ADMIN_PASS")
        self.QUARANTINE_DIR = env_str("QUARANTINE_DIR", str(BASE_DIR / "cuarentena"))
        self.LOG_DIR = env_str("LOG_DIR", str(BASE_DIR / "logs"))
        self.AUDIT_KEY = env_str("AUDIT_KEY")
        self.CLAMD_SOCKET = env_str("CLAMD_SOCKET")
        self.CLAMD_HOST = env_str("CLAMD_HOST")
        self.CLAMD_PORT = env_int("CLAMD_PORT", 3310)
        self.CLAMD_TIMEOUT = env_int("CLAMD_TIMEOUT", 30)
        self.SCAN_BLOCKLIST = env_str("SCAN_BLOCKLIST")
        self.SCAN_RETRY_SECONDS = env_int("SCAN_RETRY_SECONDS", 30)
        self.MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 16)
        self.ALLOWED_TYPES = env_str("ALLOWED_TYPES")
        # Each login holds a core for ~20 ms; leave one core to the event loop.
        self.PASSWORD_HASH_CONCURRENCY = env_int(
            "PASSWORD_HASH_CONCURRENCY", max(1, (os.cpu_count() or 2) - 1)
        )
        self.TLS_CERT = env_str("TLS_CERT")
        self.TLS_KEY = env_str("TLS_KEY")
        self.RATELIMIT_DEFAULT = env_str("RATELIMIT_DEFAULT", "200 per day;50 per hour")
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.CHAT_EVENTS_PER_SECOND = env_int("CHAT_EVENTS_PER_SECOND", 10)
        self.CHAT_EVENTS_BURST = env_int("CHAT_EVENTS_BURST", 20)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None
        self.SEED_DEMO_USERS = False
        self.MAX_CONTENT_LENGTH = (self.MAX_UPLOAD_MB + 1) * 1024 * 1024

    def validate(self) -> None:
        """Refuse settings that would make this mode unsafe."""


class DevelopmentConfig(Config):
    """Local use: demo accounts, a throwaway key when none is set."""

    ENV_NAME = "development"

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or "pichat-development-key-not-secret"
        self.SEED_DEMO_USERS = True


class TestingConfig(DevelopmentConfig):
    """The test suite: demo accounts and every protection on, as in production."""

    ENV_NAME = "testing"

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        # In-process tests drive sockets through Flask-SocketIO's test client, unpatched.
        self.ASYNC_MODE = "threading"


class ProductionConfig(Config):
    """Real deployments: a secret key is required and debug is refused."""

    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True

    def validate(self) -> None:
        """Production must have its own SECRET_KEY and must not run with DEBUG."""
        if not self.SECRET_KEY:
            raise ConfigError("SECRET_KEY is required in production (set it in .env)")
        if self.DEBUG:
            raise ConfigError("DEBUG must be off in production: it exposes tracebacks")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build and validate the settings for `name` (default: PICHAT_ENV or development)."""
    name = name or env_str("PICHAT_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"PICHAT_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    config = CONFIGS[name]()
    config.validate()
    return config
