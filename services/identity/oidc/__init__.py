"""The identity service's mechanism: the credential table beside the log, password hashing,
signing keys, sessions, authorization codes and refresh tokens, and the OpenID Connect
endpoints' protocol work (on authlib). The rules stay in `aggregates/`; the routes in `api/`."""
