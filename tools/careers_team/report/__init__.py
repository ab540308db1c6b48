"""The careers team's report of what people asked: `python -m tools.careers_team.report`.

`store` reads the tracker store, `summary` counts, `output` prints the text and draws
the HTML page (template `page.html`); `__main__` is the command."""
