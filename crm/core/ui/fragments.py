"""Pieces of pages that are the same for many requests, rendered once per process (issue #3, UX-4).

The page chrome (top bar, side menu, the links of a list page's header) was about half of a list
page's CPU time: Django's template engine resolving the same translations, URLs and static paths
for every request. A fragment is kept under a key that must determine its whole content:

- the language, the script prefix and the URLconf of the request (translations and URLs), which
  `cached` adds to every key;
- the values it is rendered with, and nothing else: the `{% fragment %}` tag renders its body
  with a new context holding only the values named in the tag (`Context.new`), and the menu
  (`ui.menu.render_menu`) is keyed by its visible entries themselves. So nothing of one request —
  the user, a CSRF token, messages — can be baked into what another request is served: a value
  not named renders empty in every request.

Values are kept per process, like `crm.core.versions`; the store starts again past MAX_ENTRIES
fragments or MAX_CHARS characters in all (a list's filter form is kept per set of submitted
filter values: a few kilobytes each).
What a fragment shows changes with its key (a role change changes the menu's entries, a language
switch the language), so nothing needs invalidating.
"""

import threading

from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

MAX_ENTRIES = 5_000
MAX_CHARS = 8_000_000
_store = {}
_chars = 0
_lock = threading.Lock()


def cached(key, render):
    """`render()` (a safe string) once per process, language, script prefix, URLconf and `key`."""
    global _chars
    full = (key, get_language(), get_script_prefix(), get_urlconf())
    hit = _store.get(full)
    if hit is None:
        hit = render()
        with _lock:
            if len(_store) >= MAX_ENTRIES or _chars + len(hit) > MAX_CHARS:
                _store.clear()
                _chars = 0
            _store[full] = hit
            _chars += len(hit)
    return hit


def clear():
    global _chars
    with _lock:
        _store.clear()
        _chars = 0
