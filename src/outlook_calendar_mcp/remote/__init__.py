"""Remote, multi-user serving (``serve --transport http|sse --auth oauth``): see docs/deployment.md.

* :mod:`.resource` - the OAuth 2.1 protected resource: Protected Resource Metadata (RFC 9728), bearer JWT
  validation against the issuer's keys, 401/403 with ``WWW-Authenticate``, the Origin check; each request
  runs as its person (:func:`..state.acting_as`) with its token kept for the on-behalf-of exchange;
* :mod:`.obo` - the Graph token provider that exchanges that token on-behalf-of the person (msal),
  caching per person (encrypted in the state store) and refreshing silently;
* :mod:`.setup` - settings found from a running sandbox, the shared state, the Graph client of remote mode.
"""
