"""Background work: scheduled jobs (reminders, digests) and the durable notification queue."""
