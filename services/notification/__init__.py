"""The notification service: public board, releases, reminders, bulletins, delivery (N1–N5)."""
