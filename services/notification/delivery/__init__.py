"""Delivery mechanism (N3-N5): sending over SMTP, group robots, webhooks and SMS
(channels.py, shared/sms.py), the delivery loop (worker.py) and the clock-driven passes
(scheduler.py), run by the runtime on a schedule. What to send and to whom is decided in
aggregates/ and handlers.py."""
