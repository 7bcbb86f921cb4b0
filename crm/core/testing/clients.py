"""Clients for tests, as a user meets the CRM: a logged-in browser session, and an API client
authenticated with a real token whose every response is validated against docs/openapi.yaml."""

from django.test import Client

from .openapi import ValidatingAPIClient


def browser(user, lang="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


def api_as(user, lang="en"):
    return ValidatingAPIClient(HTTP_ACCEPT_LANGUAGE=lang).as_user(user)
