"""The Telegram channel: the webhook that takes Bot API updates in, and the Bot API client
that sends the desk's messages out (docs/telegram.md)."""
