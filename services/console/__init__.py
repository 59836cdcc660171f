"""The console (issue 18): every person's daily work in a browser.

A web front that holds no domain data and owns no log. It signs people in through the
identity service (OpenID Connect, authorization code + PKCE), keeps their tokens in an
encrypted, HttpOnly, SameSite session cookie, and calls the services' HTTP APIs with the
person's own token: every rule and every refusal is the owning service's, shown here in
simplified Chinese next to the field it concerns.
"""
