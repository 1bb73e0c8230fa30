"""VIE Coach: a Telegram bot that gently coaches reluctant people onto social networks."""

__version__ = "0.1.0"
