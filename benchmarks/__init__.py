"""`make bench`: our assistant side by side with the bot `rasa init` makes, on the same
machine, in the same run; see `python -m benchmarks --help` and benchmarks/results.md."""
