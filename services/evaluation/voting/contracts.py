"""Voting reads no other service's events of its own: the page shows what the rounds' and
checks' read models hold (the directory copy, the pledge items a check concerns, the pledge
copy). The SMS channel it sends invitations through is shared/sms.py's `SmsGateway`."""

from __future__ import annotations
