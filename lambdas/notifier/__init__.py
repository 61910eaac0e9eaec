"""Notifier: forwards CloudWatch alarms and pipeline events to people (SNS, optional webhook)."""
