"""URLs of every registered entity, generated from the registry."""

from django.urls import path

from ..entities.registry import all_specs
from . import assignees, duplicates, merge, trash, views


def entity_urlpatterns():
    from ..jobs.urls import urlpatterns as job_pages
    from ..notifications.urls import urlpatterns as notification_pages

    patterns = [*job_pages, *notification_pages]  # kernel pages: background jobs, notifications
    from ..customfields.urls import urlpatterns as custom_fields

    patterns += custom_fields  # settings pages of custom fields (SYS-11)
    for spec in all_specs():
        k = spec.key
        kw = {"key": k}
        patterns += [
            path(f"{k}/", views.entity_list, kw, name=f"{k}-list"),
            path(f"{k}/new/", views.entity_create, kw, name=f"{k}-create"),
            path(f"{k}/lookup/", views.entity_lookup, kw, name=f"{k}-lookup"),
            path(f"{k}/bulk/", views.entity_bulk, kw, name=f"{k}-bulk"),
            path(f"{k}/assignees/", assignees.assignee_lookup, kw, name=f"{k}-assignees"),
            path(f"{k}/export/", views.entity_export, kw, name=f"{k}-export"),
            path(f"{k}/views/", views.saved_view_save, kw, name=f"{k}-view-save"),
            path(f"{k}/views/<int:view_id>/delete/", views.saved_view_delete, kw, name=f"{k}-view-delete"),
            path(f"{k}/trash/", views.entity_trash, kw, name=f"{k}-trash"),
            path(f"{k}/duplicates/", duplicates.entity_duplicates, kw, name=f"{k}-duplicates"),
            path(f"{k}/<int:pk>/", views.entity_detail, kw, name=f"{k}-detail"),
            path(f"{k}/<int:pk>/edit/", views.entity_edit, kw, name=f"{k}-edit"),
            path(f"{k}/<int:pk>/copy/", views.entity_copy, kw, name=f"{k}-copy"),
            path(f"{k}/<int:pk>/delete/", views.entity_delete, kw, name=f"{k}-delete"),
            path(f"{k}/<int:pk>/restore/", views.entity_restore, kw, name=f"{k}-restore"),
            path(f"{k}/<int:pk>/purge/", trash.entity_purge, kw, name=f"{k}-purge"),
            path(f"{k}/<int:pk>/transfer/", views.entity_transfer, kw, name=f"{k}-transfer"),
            path(f"{k}/<int:pk>/reveal/", views.entity_reveal, kw, name=f"{k}-reveal"),
            path(f"{k}/<int:pk>/notes/", views.entity_note, kw, name=f"{k}-note"),
        ]
        patterns += io_urls.entity_patterns(k)  # import wizard (INT-4)
        if spec.duplicate_keys:  # merging duplicates (CUS-3): crm.core.ui.merge
            patterns += [
                path(f"{k}/merge/", merge.merge_page, kw, name=f"{k}-merge"),
                path(f"{k}/merge/<int:merge_id>/undo/", merge.merge_undo, kw, name=f"{k}-merge-undo"),
            ]
    return patterns + io_urls.io_urlpatterns()


from ..io import urls as io_urls  # noqa: E402  (the import wizard's URLs, INT-4)
