"""Service settings: read from the environment once at start-up, typed and validated."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing only for the type checker: it is not imported at start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeVar

    T = TypeVar("T")

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# Above this F(n) has over 20,000 digits; computing and printing it would block the event loop
# for everyone (see docs/configuration.md).
FIB_MAX_N_LIMIT = 100_000
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A variable holds a value the service does not accept; the message names both."""


class Settings:
    """Immutable, compared by value. A plain class: a dataclass would import inspect (about
    2 MiB of the service's memory) and a typing.NamedTuple typing itself, which is a tenth of
    the start-up imports (bench/RESULTS.md, "Start-up imports"). The class attributes are the
    defaults."""

    host: str = "0.0.0.0"  # noqa: S104 - a container must listen on every interface
    port: int = 8080
    service_name: str = "argo-python"
    fib_max_n: int = 10_000
    log_level: str = "info"
    access_log: bool = False
    shutdown_drain_seconds: float = 3.0
    shutdown_timeout_seconds: float = 10.0

    def __init__(  # the defaults are the class attributes above, read as the class is made
        self,
        *,
        host: str = host,
        port: int = port,
        service_name: str = service_name,
        fib_max_n: int = fib_max_n,
        log_level: str = log_level,
        access_log: bool = access_log,
        shutdown_drain_seconds: float = shutdown_drain_seconds,
        shutdown_timeout_seconds: float = shutdown_timeout_seconds,
    ) -> None:
        self.__dict__.update(
            host=host,
            port=port,
            service_name=service_name,
            fib_max_n=fib_max_n,
            log_level=log_level,
            access_log=access_log,
            shutdown_drain_seconds=shutdown_drain_seconds,
            shutdown_timeout_seconds=shutdown_timeout_seconds,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"settings are read once at start-up; {name} cannot change")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(tuple(vars(self).values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"Settings({fields})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: os.environ); raise ConfigError on a bad value."""
        env = os.environ if env is None else env
        defaults = cls()
        settings = cls(
            host=_read(env, "HOST", defaults.host, _host),
            port=_read(env, "PORT", defaults.port, _int_between(1, 65535)),
            service_name=_read(env, "SERVICE_NAME", defaults.service_name, _service_name),
            fib_max_n=_read(env, "FIB_MAX_N", defaults.fib_max_n, _int_between(0, FIB_MAX_N_LIMIT)),
            log_level=_read(env, "LOG_LEVEL", defaults.log_level, _log_level),
            access_log=_read(env, "ACCESS_LOG", defaults.access_log, _bool),
            shutdown_drain_seconds=_read(
                env, "SHUTDOWN_DRAIN_SECONDS", defaults.shutdown_drain_seconds, _seconds
            ),
            shutdown_timeout_seconds=_read(
                env, "SHUTDOWN_TIMEOUT_SECONDS", defaults.shutdown_timeout_seconds, _seconds
            ),
        )
        if settings.shutdown_timeout_seconds <= settings.shutdown_drain_seconds:
            raise ConfigError(
                "SHUTDOWN_TIMEOUT_SECONDS must be greater than SHUTDOWN_DRAIN_SECONDS "
                f"(got {settings.shutdown_timeout_seconds:g} and "
                f"{settings.shutdown_drain_seconds:g})"
            )
        return settings


def _read(env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is invalid: {exc}") from None


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        text = raw.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            raise ValueError(f"expected an integer between {low} and {high}")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"expected an integer between {low} and {high}")
        return value

    return parse


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:  # also rejects nan
        raise ValueError("expected a number of seconds between 0 and 3600")
    return value


def _bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected one of {', '.join(_TRUE + _FALSE)}")


def _log_level(raw: str) -> str:
    text = raw.strip().lower()
    if text not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return text


def _host(raw: str) -> str:
    text = raw.strip()
    if not text or any(c.isspace() for c in text) or len(text) > 253:
        raise ValueError("expected an IP address or host name to listen on, such as 0.0.0.0")
    return text


def _service_name(raw: str) -> str:
    text = raw.strip()
    if not 1 <= len(text) <= 63 or not text.isprintable():
        raise ValueError("expected 1 to 63 printable characters")
    return text
