"""The Telegram face: a thin layer of python-telegram-bot over the application layer.

A question travels: `app.NewsqaBot.build` routes the update -> `access.Access.gate` (who
may ask) -> `handlers.ChatHandlers` (`question`, `ask` or `group_message`, then `_answer`)
-> `batching.BatchedAnswerer` (the answering thread) -> `state.QuestionStore` (what the
buttons need) -> `formatting.answer_card` -> `delivery.Delivery` (split, retry, fallback).
Admin commands are in `admin`, the buttons' data format in `callbacks`, fixed texts in
`texts`, start-up from the command line in `launch`.
"""

from .app import ALLOWED_UPDATES, NewsqaBot, WebhookConfig
from .launch import REDACTED_LOGGERS, BotStartFailed, RedactSecrets, protect_logs, run_bot, webhook_config
from .texts import COMMANDS, EXPIRED

__all__ = ["ALLOWED_UPDATES", "BotStartFailed", "COMMANDS", "EXPIRED", "NewsqaBot", "REDACTED_LOGGERS",
           "RedactSecrets", "WebhookConfig", "protect_logs", "run_bot", "webhook_config"]
