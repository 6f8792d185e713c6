"""Celery application. The embedded default broker is Kombu's filesystem transport under
`var/broker` (no server needed); set CELERY_BROKER_URL to redis:// or amqp:// to scale out."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")

app = Celery("careledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
