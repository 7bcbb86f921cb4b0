"""Values cached for the length of one request (e.g. dictionary labels, system parameters), so a
list page reads them once rather than once per row. Outside a request nothing is cached."""

import threading

from django.core.signals import request_finished, request_started


class RequestCache:
    def __init__(self, name, load):
        self._load = load
        self._local = threading.local()
        request_started.connect(self._start, dispatch_uid=f"crm-request-cache-start-{name}", weak=False)
        request_finished.connect(self._end, dispatch_uid=f"crm-request-cache-end-{name}", weak=False)

    def _start(self, **kwargs):
        self._local.enabled, self._local.value = True, None

    def _end(self, **kwargs):
        self._local.enabled, self._local.value = False, None

    def clear(self):
        """Forget the value (after a write), so the rest of the request reads the new one."""
        self._local.value = None

    def get(self):
        if not getattr(self._local, "enabled", False):
            return self._load()
        if getattr(self._local, "value", None) is None:
            self._local.value = self._load()
        return self._local.value
