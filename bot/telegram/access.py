"""Who may talk to the bot, and which messages in a group are meant for it."""

from __future__ import annotations

import logging

from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import ApplicationHandlerStop, ContextTypes

from ..settings import Settings
from .batching import QuestionRateLimit
from .texts import REFUSAL

log = logging.getLogger(__name__)


class Access:
    """NEWSQA_ALLOWED_USERS and NEWSQA_ADMIN_USERS, checked before any handler runs."""

    def __init__(self, settings: Settings, action_limit: QuestionRateLimit) -> None:
        self.settings = settings
        self.action_limit = action_limit

    def is_allowed(self, user: User | None) -> bool:
        if not self.settings.allowed_users:
            return True
        return user is not None and (user.id in self.settings.allowed_users or self.is_admin(user))

    def is_allowed_id(self, user_id: int) -> bool:
        """`is_allowed` for a user known only by id (whoever followed a topic, at push time)."""
        settings = self.settings
        return not settings.allowed_users or user_id in settings.allowed_users or user_id in settings.admin_users

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admin_users

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Refuse users outside NEWSQA_ALLOWED_USERS, before any other handler runs."""
        if self.is_allowed(update.effective_user):
            return
        user_id = update.effective_user.id if update.effective_user else "unknown"
        if not self.action_limit.allow(update.effective_user.id if update.effective_user else 0):
            pass  # refusals count as actions: past the limit, silence
        elif update.callback_query is not None:
            await update.callback_query.answer(REFUSAL, show_alert=True)
        elif update.message is not None and addressed(update.message, context) is not None:
            await update.message.reply_text(f"{REFUSAL} Your Telegram user id is {user_id}.")
        log.info("refused update from user %s", user_id)
        raise ApplicationHandlerStop


def addressed(message: Message, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The text of `message` meant for this bot (mention removed), or None when it is not."""
    text = message.text or ""
    if message.chat.type == Chat.PRIVATE:
        return text
    bot = context.bot
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        target = command.partition("@")[2]
        return text if not target or target.casefold() == (bot.username or "").casefold() else None
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.MENTION and value[1:].casefold() == (bot.username or "").casefold()) \
                or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id):
            return " ".join(text.replace(value, " ").split())
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return text
    return None
