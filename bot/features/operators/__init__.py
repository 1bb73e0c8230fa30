"""The operators' own commands in the chat: /reload and /broadcast."""
