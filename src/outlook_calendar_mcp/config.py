"""Settings for outlook-calendar-mcp, read from ``OUTLOOK_MCP_*`` environment variables.

Command-line flags override them (the CLI passes them as keyword arguments)::

    OUTLOOK_MCP_BACKEND=graph OUTLOOK_MCP_TENANT_ID=contoso.onmicrosoft.com outlook-calendar-mcp serve

Secrets (client secret, certificate password, access token) are ``SecretStr``:
they never appear in ``repr(settings)``, in logs or in ``auth status``.

Default client id: without an app registration of your own, delegated sign-in
uses the public client "Microsoft Graph Command Line Tools"
(``14d82eec-204b-4c2f-b7e8-296a70dab67e``), the application Microsoft's own
Graph PowerShell SDK signs in with (``Connect-MgGraph`` default ``ClientId``,
microsoftgraph/msgraph-sdk-powershell ``AuthContext.cs``), which supports the
device code flow (``Connect-MgGraph -UseDeviceCode``) and the localhost browser
redirect. Organizations that restrict it register their own public client and
set ``OUTLOOK_MCP_CLIENT_ID``; app-only access always needs an own app.

Settings are data: nothing here reads a file, a token cache or the clock.
Deciding the backend from the token cache and loading certificates belong to
:mod:`.auth`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .clock import parse_instant

__all__ = ["APP_NAME", "DEFAULT_CLIENT_ID", "DEFAULT_SCOPES", "Settings"]

APP_NAME = "outlook-calendar-mcp"

#: Microsoft Graph Command Line Tools: a first-party public client (device code, localhost redirect).
DEFAULT_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

#: Delegated permissions the tools use. msal adds openid/profile/offline_access itself.
#: Place.Read.All (room lists) needs admin consent in most tenants, which would block every sign-in
#: where no admin granted it: it is left out; add it with OUTLOOK_MCP_SCOPES to use the room tools.
DEFAULT_SCOPES: tuple[str, ...] = (
    "Calendars.ReadWrite",
    "Calendars.ReadWrite.Shared",
    "MailboxSettings.Read",
    "People.Read",
    "User.ReadBasic.All",
)

#: Optional delegated permissions, asked for only when their setting is on (issue 14): Mail.Send lets
#: message_attendees mail the people of a meeting; without it that tool refuses and says how to grant it.
MAIL_SEND = "Mail.Send"

# Scopes msal reserves and rejects when asked for explicitly.
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})

Backend = Literal["auto", "sandbox", "graph"]
AuthMode = Literal["auto", "device_code", "browser", "client_secret", "certificate", "token", "sandbox"]


class Settings(BaseSettings):
    """Everything the server, the CLI and the auth layer read from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="OUTLOOK_MCP_",
        env_file=None,
        extra="ignore",
        validate_default=True,
        hide_input_in_errors=True,  # a bad secret must not echo into an error message
    )

    # --- where requests go ----------------------------------------------------
    backend: Backend = Field("auto", description="auto: graph when credentials exist, else the sandbox")
    graph_url: str = "https://graph.microsoft.com/v1.0"
    graph_beta_url: str = "https://graph.microsoft.com/beta"
    sandbox_url: str | None = Field(
        None, description="base URL of a running sandbox, e.g. http://127.0.0.1:8765/v1.0; None = in-process"
    )
    sandbox_db: str = Field("", description="sandbox SQLite file; ':memory:' allowed; default under data_dir")
    sandbox_user: str | None = Field(None, description="sandbox mailbox to act as; None = the sandbox's default user")

    # --- who signs in -----------------------------------------------------------
    auth_mode: AuthMode = "auto"
    tenant_id: str = Field("common", description="tenant GUID or domain; app-only needs an explicit tenant")
    client_id: str = DEFAULT_CLIENT_ID
    authority_host: str = Field("https://login.microsoftonline.com", description="sign-in service (national clouds)")
    client_secret: SecretStr | None = None
    certificate_path: Path | None = Field(None, description="PEM (key + certificate) or PFX/P12 file")
    certificate_password: SecretStr | None = None
    certificate_thumbprint: str | None = Field(None, description="SHA-1 hex; computed from the PEM when omitted")
    access_token: SecretStr | None = None
    mailbox: str | None = Field(None, description="mailbox to act on; required for app-only access")
    scopes: Annotated[tuple[str, ...], NoDecode] = DEFAULT_SCOPES
    send_mail: bool = Field(False, description="also ask for Mail.Send (optional): message_attendees needs it")
    token_cache_encryption: Literal["auto", "require", "off"] = Field(
        "auto", description="auto: OS-encrypted store where available, else a 0600 file"
    )

    # --- what the server offers ------------------------------------------------------
    read_only: bool = Field(False, description="register no tool that changes anything")
    tools: str | None = Field(None, description="presets and/or tool names, comma-separated (default: all)")
    confirm_sends: bool | None = Field(None, description="preview + token before reaching others; default: on for HTTP")

    # --- time ---------------------------------------------------------------------
    now: dt.datetime | None = Field(
        None,
        description="time travel: the clock starts at this instant and ticks on (ISO 8601; without an "
        "offset it is read in the machine's time zone); None = the system clock",
    )

    # --- local state -------------------------------------------------------------
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))
    attachments_dir: Path | None = Field(
        None,
        description="the only directory attachment tools read files from and save files to; "
        "default data_dir/attachments",
    )

    # --- remote and multi-user (serve --auth oauth; docs/deployment.md) ---------------
    auth: Literal["none", "oauth"] = Field("none", description="oauth: an OAuth-protected resource, on-behalf-of")
    oauth_issuer: str | None = Field(None, description="the authorization server's issuer (…/{tenant}/v2.0)")
    oauth_audience: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="accepted token audiences: the server app's application ID URI and/or client id"
    )
    oauth_scope: str = Field("access_as_user", description="the scope (scp) a caller's token must carry")
    public_url: str | None = Field(None, description="the MCP endpoint as clients reach it (the resource)")
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="browser Origins allowed besides the public URL's own"
    )
    state_url: str | None = Field(None, description="redis://… : state shared by several workers; None = SQLite")
    state_key: SecretStr | None = Field(None, description="encrypts the token cache kept in the state store")
    sandbox_ca: Path | None = Field(None, description="CA certificate of the sandbox's HTTPS; default data_dir")
    rate_limit: int = Field(
        120, ge=0, description="tool calls per minute per person (tenant:user, or the local user); 0 = no limit"
    )

    @field_validator("oauth_audience", "allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v for v in value.replace(",", " ").split() if v)
        return value

    # --- HTTP behaviour ------------------------------------------------------------
    timeout_s: float = Field(30.0, gt=0)
    max_retries: int = Field(4, ge=0, le=10)
    retry_budget_s: float = Field(60.0, ge=0)
    max_items: int = Field(500, ge=1, description="cap on items one paged listing collects")

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, (list, tuple)):
            return tuple(s.strip() for s in value if s and s.strip() and s.strip().lower() not in _RESERVED_SCOPES)
        return value

    @field_validator(
        "mailbox",
        "sandbox_user",
        "sandbox_url",
        "certificate_thumbprint",
        "oauth_issuer",
        "public_url",
        "state_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("client_secret", "certificate_password", "access_token", "state_key", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("now", mode="before")
    @classmethod
    def _parse_now(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            import tzlocal  # noqa: PLC0415 - only a --now without offset needs the machine's zone

            return parse_instant(value, tzlocal.get_localzone())
        return value

    @field_validator("graph_url", "graph_beta_url", "sandbox_url", "authority_host")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _derived_defaults(self) -> Settings:
        if not self.sandbox_db:
            self.sandbox_db = str(self.data_dir / "sandbox.db")
        if self.attachments_dir is None:
            self.attachments_dir = self.data_dir / "attachments"
        if self.sandbox_ca is None:
            self.sandbox_ca = self.data_dir / "sandbox-identity" / "ca.pem"
        return self

    # --- derived values --------------------------------------------------------------
    @property
    def token_cache_path(self) -> Path:
        """Where the msal token cache lives (or, when encrypted by the OS keyring, its signal file)."""
        return self.data_dir / "msal_token_cache.bin"

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def tenant_is_generic(self) -> bool:
        """True for the multi-tenant aliases, which app-only access cannot use."""
        return self.tenant_id.strip().lower() in {"common", "organizations", "consumers"}

    def graph_scopes(self) -> list[str]:
        """Delegated scopes qualified with the Graph resource of ``graph_url`` (national clouds differ)."""
        parts = urlsplit(self.graph_url)
        resource = f"{parts.scheme}://{parts.netloc}"
        scopes = list(self.scopes) + ([MAIL_SEND] if self.send_mail and not self.mail_send_granted_in_scopes else [])
        return [s if "://" in s else f"{resource}/{s}" for s in scopes]

    @property
    def mail_send_granted_in_scopes(self) -> bool:
        return any(s.rsplit("/", 1)[-1].lower() == MAIL_SEND.lower() for s in self.scopes)

    @property
    def may_send_mail(self) -> bool:
        """Whether the optional Mail.Send permission is asked for (OUTLOOK_MCP_SEND_MAIL, or in the scopes)."""
        return self.send_mail or self.mail_send_granted_in_scopes

    def app_only_scope(self) -> list[str]:
        parts = urlsplit(self.graph_url)
        return [f"{parts.scheme}://{parts.netloc}/.default"]
