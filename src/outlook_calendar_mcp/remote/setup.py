"""Remote mode assembled from settings: what a running sandbox tells, the shared state, the Graph client.

``OUTLOOK_MCP_SANDBOX_URL=https://127.0.0.1:8766/v1.0`` with ``--auth oauth`` needs nothing else: the issuer,
the audience and the server app's credentials come from the sandbox's ``/sandbox/identity`` (answered to
loopback callers only), over HTTPS trusted through the sandbox's CA file (``OUTLOOK_MCP_SANDBOX_CA``).
Settings given explicitly win over what the sandbox says.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from ..auth import certificate_credential
from ..calendar.sync_state import SyncState
from ..clock import Clock
from ..config import Settings
from ..graph import GraphClient
from ..graph.errors import ConfigurationError
from ..ids import Handles
from ..state import StateStore
from ..state.sqlite import SqliteState
from ..state.tokens import TokenCacheStore
from .obo import OnBehalfOfProvider, TokenCaches
from .resource import JwtVerifier, ResourceConfig

__all__ = ["Remote", "build_remote", "discover_sandbox", "open_state", "trust"]


def trust(settings: Settings) -> ssl.SSLContext | bool:
    """TLS trust for the sandbox (its CA file) when its URL is https and the file exists; else the system's."""
    ca = settings.sandbox_ca
    if settings.sandbox_url and settings.sandbox_url.startswith("https://") and ca and Path(ca).is_file():
        return ssl.create_default_context(cafile=str(ca))
    return True


def discover_sandbox(settings: Settings) -> Settings:
    """Fill the OAuth settings a running sandbox knows (issuer, audience, the server app's credentials)."""
    if not settings.sandbox_url:
        return settings
    root = settings.sandbox_url.rsplit("/v1.0", 1)[0]
    if not root.startswith("https://"):
        raise ConfigurationError(
            f"--auth oauth with the sandbox needs its HTTPS URL (msal signs in over HTTPS only), not {root}: "
            "`sandbox serve` prints it (OUTLOOK_MCP_SANDBOX_URL=https://127.0.0.1:8766/v1.0)."
        )
    try:
        answer = httpx.get(f"{root}/sandbox/identity", verify=trust(settings), timeout=10)
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as e:
        raise ConfigurationError(
            f"Could not read the sandbox's identity settings at {root}/sandbox/identity ({e}). Is `sandbox serve` "
            f"running, and is OUTLOOK_MCP_SANDBOX_CA its CA file ({settings.sandbox_ca})?"
        ) from None
    update: dict[str, Any] = {}
    if not settings.oauth_issuer:
        update["oauth_issuer"] = found["issuer"]
    if not settings.oauth_audience:
        update["oauth_audience"] = tuple(found["audience"])
    if not settings.client_secret and not settings.certificate_path:
        update |= {"client_id": found["client_id"], "client_secret": SecretStr(found["client_secret"])}
    update["tenant_id"] = found["tenant_id"]
    update["authority_host"] = root
    return settings.model_copy(update=update)


def open_state(settings: Settings, clock: Clock) -> StateStore:
    """Redis at ``state_url`` (checked now: a worker that cannot reach it refuses to start), else SQLite."""
    if settings.state_url:
        from ..state.redis import RedisState  # noqa: PLC0415 - only remote deployments need redis-py

        store = RedisState(settings.state_url)
        try:
            store.ping()
        except Exception as e:  # redis.ConnectionError, auth errors...
            raise ConfigurationError(f"Cannot reach the state store {store.description}: {e}") from None
        return store
    return SqliteState(settings.data_dir / "state.db", clock=clock)


@dataclass
class Remote:
    settings: Settings
    graph: GraphClient
    handles: Handles
    sync_state: SyncState
    verifier: JwtVerifier


def build_remote(settings: Settings, *, clock: Clock, public_url: str) -> Remote:
    """Everything ``serve --auth oauth`` needs, from settings (and a running sandbox when configured)."""
    settings = discover_sandbox(settings)
    if not settings.oauth_issuer or not settings.oauth_audience:
        raise ConfigurationError(
            "--auth oauth needs OUTLOOK_MCP_OAUTH_ISSUER (e.g. https://login.microsoftonline.com/<tenant>/v2.0) and "
            "OUTLOOK_MCP_OAUTH_AUDIENCE (the server app's application ID URI and/or client id); see docs/deployment.md."
        )
    if not settings.client_secret and not settings.certificate_path:
        raise ConfigurationError(
            "--auth oauth exchanges each caller's token on-behalf-of: set OUTLOOK_MCP_CLIENT_ID and "
            "OUTLOOK_MCP_CLIENT_SECRET (or OUTLOOK_MCP_CERTIFICATE_PATH) of the server's app registration."
        )
    if settings.state_url and not settings.state_key:
        raise ConfigurationError(
            "OUTLOOK_MCP_STATE_URL needs OUTLOOK_MCP_STATE_KEY (16+ characters, the same on every worker): the "
            "token cache is encrypted with it before it reaches the shared store."
        )
    store = open_state(settings, clock)
    caches = TokenCaches(TokenCacheStore(store, settings.state_key.get_secret_value()) if settings.state_key else None)
    verify = trust(settings)
    issuer_authority = settings.oauth_issuer.rstrip("/").removesuffix("/v2.0")
    authority = settings.authority if settings.sandbox_url else issuer_authority
    credential: str | dict[str, str] = (
        certificate_credential(settings) if settings.certificate_path else settings.client_secret.get_secret_value()  # type: ignore[union-attr]
    )
    provider = OnBehalfOfProvider(
        client_id=settings.client_id,
        credential=credential,
        authority=authority,
        scopes=settings.graph_scopes(),
        caches=caches,
        verify=str(settings.sandbox_ca) if verify is not True else True,
        standard_authority=urlsplit(authority).netloc == "login.microsoftonline.com",
        timeout=settings.timeout_s,
    )
    if settings.sandbox_url:
        root = settings.sandbox_url.rsplit("/v1.0", 1)[0]
        base, beta = f"{root}/v1.0", f"{root}/beta"
    else:
        base, beta = settings.graph_url, settings.graph_beta_url
    graph = GraphClient(
        base_url=base,
        beta_url=beta,
        token_provider=provider,
        verify=verify,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        retry_budget_s=settings.retry_budget_s,
        max_items=settings.max_items,
        clock=clock,
    )
    audiences = settings.oauth_audience
    app_uri = next((a for a in audiences if "://" in a), None)
    scope_names = (f"{app_uri}/{settings.oauth_scope}",) if app_uri else (settings.oauth_scope,)
    config = ResourceConfig(
        issuer=settings.oauth_issuer,
        audiences=audiences,
        scope=settings.oauth_scope,
        resource=settings.public_url or public_url,
        scopes_supported=scope_names,
        allowed_origins=settings.allowed_origins,
        verify=verify,
    )
    return Remote(
        settings=settings,
        graph=graph,
        handles=Handles(store),
        sync_state=SyncState(store, clock),
        verifier=JwtVerifier(config, clock=clock),
    )
