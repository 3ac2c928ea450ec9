"""`python -m newsqa.bot` runs the CLI, same as the `newsqa` command."""

from .cli import main

main()
