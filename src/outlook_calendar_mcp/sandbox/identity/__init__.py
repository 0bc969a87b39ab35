"""The Microsoft identity platform for the sandbox's demo tenant (contoso.com), so remote mode runs offline.

* :mod:`.platform` - apps, sign-ins, grants and signed JWTs (no HTTP);
* :mod:`.routes` - Entra's endpoints over it: OpenID configuration, JWKS, authorize, token, device code, DCR;
* :mod:`.pages` - the sign-in and device-code pages;
* :mod:`.keys` - the signing key, the server app's secret and the local CA for HTTPS, made on first run.

The sandbox's Graph accepts the Graph tokens this platform issues (``aud`` https://graph.microsoft.com),
besides its ``sandbox`` / ``sandbox:<address>`` shortcuts.
"""

from .keys import Keys, TlsFiles, make_tls
from .platform import GRAPH, SERVER_APP_ID, SERVER_APP_URI, SERVER_SCOPE, TENANT_ID, IdentityError, Platform
from .routes import routes

__all__ = [
    "GRAPH", "SERVER_APP_ID", "SERVER_APP_URI", "SERVER_SCOPE", "TENANT_ID", "IdentityError", "Keys", "Platform",
    "TlsFiles", "make_tls", "routes",
]  # fmt: skip
