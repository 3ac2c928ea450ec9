"""The `newsqa` command line, a thin face over the application layer (`bot/app.py`).

One module per command group: `index` (index, stats), `ask` (ask, chat), `add`, `watch`,
`evaluate` (eval) and `telegram` (bot, which loads python-telegram-bot only when run);
`main` holds the group and turns library errors into messages and exit codes, `output`
the progress bar and answer printing the commands share.
"""

from .main import cli, main

__all__ = ["cli", "main"]
