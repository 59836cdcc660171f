"""Mechanism shared by every Gongkai service: event log, relay, subscriptions, auth, HTTP.

No domain rules live here.
"""
