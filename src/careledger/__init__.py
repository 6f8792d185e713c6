"""CareLedger (康链健康管理系统)."""

from careledger.celery import app as celery_app

__all__ = ["celery_app"]
