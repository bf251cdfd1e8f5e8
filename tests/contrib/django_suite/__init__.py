"""A Django project's own test cases, run by Django's test runner (``manage.py test``)
from ``tests/contrib/test_django_runner.py``: what a user of the app writes."""
