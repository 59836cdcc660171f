"""Reactions of the rounds: none to other services' events. A round whose window has ended
closes by itself on the service's clock (services/evaluation/policies.py, E4)."""
