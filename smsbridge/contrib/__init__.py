"""Integrations with the frameworks applications already run: Django and Celery.

Each lives in its own subpackage and needs its extra (``smsbridge[django]``,
``smsbridge[celery]``); nothing here is imported by the core.
"""
