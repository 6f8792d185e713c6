"""Celery entry points of the store (idempotent: an order already moved on is skipped under its
row lock, so a retried or overlapping run changes nothing twice)."""

from __future__ import annotations

from celery import shared_task

from careledger.store import payments


@shared_task(name="careledger.store.expire_orders")
def expire_orders() -> int:
    """Unpaid orders past their time expire (and give back their card entitlement)."""
    return payments.do_expire_due()
