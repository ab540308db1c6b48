"""How much of a message is read, and how a message cut short says so: one home
for the channels (which cut before anything is stored, channels/limits.py) and the
NLU pipeline's MessageGuard (config.yml's `max_characters` equals MAX_MESSAGE_CHARACTERS;
tests/test_channel_limits.py checks it)."""

MAX_MESSAGE_CHARACTERS = 2000
# The key, in a message's metadata, that says it was cut and from how many characters.
CUT_FROM_CHARACTERS = "cut_from_characters"
