"""Follow-up nudges: a pure policy, the engine's side of them, and a durable dispatcher."""
