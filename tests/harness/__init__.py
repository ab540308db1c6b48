"""The test harness: starts and stops the real servers (serverctl), nginx, PostgreSQL
and Redis, headless Chromium, and stands in for Slack and Microsoft on this machine.
Used by the tests, the benchmarks and the careers team's scripts played as Slack or Teams."""
