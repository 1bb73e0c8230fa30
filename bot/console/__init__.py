"""The operators' console in the browser (`docs/console.md`): server-rendered pages on the
bot's own local address, reached through a one-time link that /console gives an operator."""
