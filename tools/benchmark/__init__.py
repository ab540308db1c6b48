"""`make bench`: our assistant side by side with the bot `rasa init` makes, on the same
machine, in the same run; see `python -m tools.benchmark --help` and docs/benchmarks.md."""
