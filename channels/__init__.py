"""Input channels, kept apart from the assistant's core (NLU, dialogue, actions)."""
