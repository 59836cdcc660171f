"""The identity service: people, their posts, credentials and sign-in (OpenID Connect)."""
