"""The dialogue layer: how messages are read and what a turn of the conversation changes.

Between the domain (`careers/`: rules, facts, engine, answers) and the adapters (`actions/`
for Rasa's action server, `nlp/` for its NLU pipeline). It imports the domain and nothing
above it, and no Rasa: `tests/test_layout.py` checks both.

- reading what people write, split by what it reads: `grades` (qualifications, classes,
  grades), `subjects`, `timing` (held, predicted, in progress, planned, abandoned),
  `denials` (no, not, yes, not sure), `mentions` (where things are named), `facts` (the
  facts of a message, and what they change in a profile);
- `turns`: one message in the conversation, typed in and out (`take_turn`);
- `questions`: the open-world decision (is this about our field, what is asked, do the
  sources answer it);
- `history`: what the actions read from the conversation's recent events, and how many
  of the person's messages that needs (the launcher's contract).
"""
