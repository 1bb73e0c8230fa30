"""The python-telegram-bot adapter: updates in, engine events; effects out, Bot API calls."""
