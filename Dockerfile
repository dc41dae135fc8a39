# One image for the web server, the Celery worker and beat, and the demo platform.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY . .
RUN pip install --no-cache-dir . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER nobody
EXPOSE 8000
CMD ["gunicorn", "helpdesk.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
