"""What the bot does, for Slack and the CLI alike: the only part of ``bot/`` that opens sessions."""
