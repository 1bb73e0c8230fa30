"""The python-telegram-bot adapter: updates in, engine events; effects out, Bot API calls."""

import os

# Opt in to PTB's coming behaviour (time spans as timedelta): without it, PTB 22 warns on
# every 429 it parses. The adapter reads both forms (see ratelimit.retry_after_seconds).
os.environ.setdefault("PTB_TIMEDELTA", "true")
