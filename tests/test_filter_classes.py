"""The generated FilterSet class is built once per entity and language (issue #3); its labels
still follow each request's language."""

from crm.core.testing.clients import browser


def label_of(page, field_id):
    before, _sep, after = page.partition(f'for="{field_id}">')
    assert _sep, field_id
    return after.split("<", 1)[0]


def test_labels_follow_the_language_of_each_request(manager):
    labels = []
    for lang in ("zh-hans", "en", "zh-hans", "en"):
        page = browser(manager, lang=lang).get("/customers/", {"status": "active"}).content.decode()
        labels.append((label_of(page, "id_status"), label_of(page, "id_updated_at__gte")))
    assert labels[0] == labels[2] and labels[1] == labels[3]
    assert "状态" in labels[0][0] and labels[1][0].lower().endswith("status")
    assert labels[0][1] != labels[1][1]

