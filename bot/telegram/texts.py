"""What the bot says that is not an answer: help, refusals, the command menu."""

from __future__ import annotations

from telegram import BotCommand

from .formatting import RichText, Span

EXAMPLE_QUESTION = "who led the Chinese delegation?"
COMMANDS = [
    BotCommand("start", "Welcome and an example question"),
    BotCommand("help", "How to ask"),
    BotCommand("ask", "Ask a question (needed in groups)"),
    BotCommand("new", "Start afresh: forget the earlier questions"),
    BotCommand("sources", "The indexed articles"),
    BotCommand("stats", "What the index holds and how fresh it is"),
    BotCommand("reindex", "Re-read the articles folder (admins)"),
    BotCommand("add", "Fetch an article from a URL and index it (admins)"),
    BotCommand("latest", "The newest headlines"),
    BotCommand("follow", "Get new articles that answer a topic"),
    BotCommand("following", "Your followed topics"),
    BotCommand("unfollow", "Stop following a topic"),
    BotCommand("feeds", "The followed news feeds (admins)"),
    BotCommand("feed_add", "Follow an RSS or Atom feed (admins)"),
    BotCommand("feed_remove", "Stop following a feed (admins)"),
]

REFUSAL = "Sorry, this bot only answers its approved users."
SLOW_DOWN = "You are pressing faster than I can keep up. Please wait a moment."
EXPIRED = "This question has expired. Please ask it again."
FRESH_START = "Starting afresh: your next message is a new question."
FAILED = "Sorry, something went wrong. Please try again."
HELP = RichText.of(
    Span("Ask me about the news", bold=True),
    " and I answer with sentences quoted word for word from the articles I have read, "
    "with the article they come from. Nothing is made up.\n\n"
    "In a private chat just send a question. In a group, use ",
    Span("/ask your question", italic=True),
    ", mention me, or reply to one of my messages.\n\n",
    "Under an answer, ", Span("More", bold=True), " shows the next answer and ",
    Span("Context", bold=True), " the passage around the quote.\n\n"
    "Follow-ups work: after a question, \"and the Russian one?\" or \"when?\" is answered as the "
    "question it stands for (shown as \"Understood as\"); /new starts afresh.\n\n"
    "/follow a topic or question, and I send you the quoted sentence when a new article answers it; "
    "/following lists your topics, /unfollow stops one.\n\n"
    "/latest shows the newest headlines, /sources lists the articles, /stats shows how fresh the index is.",
)
