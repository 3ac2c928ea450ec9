"""The `newsqa` group: global flags, settings, and the one place library errors become
messages and exit codes; the commands live in this package's other modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from newsqa.index import (
    ArticlesDirNotFound,
    IndexCorrupt,
    IndexLayerError,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    ModelNotFound,
)
from newsqa.retrieval import EmptyQuestion, RetrievalError

from ..app import NewsqaApp
from ..settings import load_settings, warn_about_unknown_settings
from .add import add
from .ask import ask, chat
from .evaluate import eval_command
from .feeds import feeds
from .index import index, stats
from .telegram import bot
from .watch import watch


class NewsqaGroup(click.Group):
    """The one place where library errors become messages and exit codes."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EmptyQuestion as error:
            raise click.UsageError(str(error), ctx) from None
        except ArticlesDirNotFound as error:
            raise click.ClickException(
                f"{error}. Put articles there or set NEWSQA_ARTICLES_DIR / --articles-dir."
            ) from None
        except IndexCorrupt as error:
            raise click.ClickException(
                f"the index is unreadable ({error}). Rebuild it with `newsqa index --rebuild`."
            ) from None
        except IndexNotFound as error:
            raise click.ClickException(f"{error}. Build it with `newsqa index`.") from None
        except ModelNotFound as error:
            raise click.ClickException(
                f"{error}. Set NEWSQA_EMBEDDING_MODEL to a sentence-transformers model name or "
                f"local path (default all-MiniLM-L6-v2, bundled)."
            ) from None
        except (IndexMismatch, IndexLocked, IndexLayerError, RetrievalError) as error:
            raise click.ClickException(str(error)) from None
        except ValidationError as error:  # a malformed setting in the environment or .env
            problem = error.errors()[0]
            raise click.ClickException(
                f"invalid setting {'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None


@click.group(cls=NewsqaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--articles-dir", type=click.Path(path_type=Path), default=None,
              help="Folder of articles [env NEWSQA_ARTICLES_DIR; default seeds/].")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None,
              help="Where the index lives [env NEWSQA_INDEX_DIR; default data/index].")
@click.option("--model", "embedding_model", default=None,
              help="sentence-transformers model name or path [env NEWSQA_EMBEDDING_MODEL].")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, to stderr.")
@click.version_option(package_name="newsqa")
@click.pass_context
def cli(ctx: click.Context, articles_dir: Path | None, index_dir: Path | None,
        embedding_model: str | None, verbose: bool) -> None:
    """Ask questions about news articles; get back the sentences that answer them, quoted.

    \b
    Example:
      newsqa index
      newsqa ask "who led the Chinese delegation?"
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # trafilatura warns of every page it finds no text in, which `add` already reports as ours.
    logging.getLogger("trafilatura").setLevel(logging.INFO if verbose else logging.ERROR)
    warn_about_unknown_settings()
    settings = load_settings(articles_dir=articles_dir, index_dir=index_dir, embedding_model=embedding_model)
    ctx.obj = NewsqaApp(settings)


for command in (index, ask, chat, stats, add, watch, bot, eval_command, feeds):
    cli.add_command(command)


def main() -> None:
    """Console entry point."""
    cli(prog_name="newsqa")
