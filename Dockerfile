# One image for web, worker and beat; the command differs per service (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=servicedesk.settings.production

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/none.sqlite3 \
    python manage.py collectstatic --noinput \
 && useradd --create-home --uid 1000 desk && mkdir -p /app/var /app/media && chown -R desk /app/var /app/media
USER desk

# uvicorn never rewrites the client address from forwarded headers: the application alone reads
# X-Forwarded-For, and only as far as PROXY_COUNT says (0 here: the image may be published
# directly, and then a caller must not choose the address rate limits and lockout judge it by).
# Behind proxies of yours, set PROXY_COUNT to their number (docker-compose.yml runs one).
ENV PROXY_COUNT=0
EXPOSE 8000
CMD ["python", "-m", "servicedesk.serve", "servicedesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
