import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_token():
    return uuid.uuid4().hex


class ConfigVersion(models.Model):
    """One row per kind of configuration (access, dictionary, parameters, custom fields …) whose
    token every write of that configuration replaces. A token, not a counter: a rolled-back
    change can never leave a version that a cache has already seen with other contents."""

    name = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32, default=new_token)

    class Meta:
        verbose_name = _("configuration version")
        verbose_name_plural = _("configuration versions")

    def __str__(self):
        return f"{self.name}: {self.token}"
