from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    """One record of a searchable entity, as the search box sees it. Never shown to anyone by
    itself: a query finds candidate ids here and reads the records through the scope predicate.

    * `text`   the non-masked, non-protected search fields, normalised (NFKC, lower case), each
               Chinese value also as full pinyin and pinyin initials; one value per line.
    * `phones` the numbers of masked search fields, " n1 n2 " (only queries that follow the
               masking rules of crm.core.access.masking may look at it).
    * `grams`  " t1 t2 … ": every 2-character piece of the values as typed and of the initials (so
               2-character terms such as 张伟 or zw have an index), and t<last 3/4 digits> of each
               masked phone (the tail the mask shows).
    * `key`, `abbr`  the title normalised and its initials: exact and prefix matches rank first.
    """

    # No index leads with the content type: a query's match (a few hundred entries from the trigram
    # or grams index) is always more selective than "all entries of customers", and PostgreSQL
    # would otherwise AND the two bitmaps, reading a million index entries (issue #3: phone tail).
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    title = models.CharField(_("title"), max_length=255)
    key = models.CharField(max_length=255)
    abbr = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    phones = models.TextField(blank=True)
    grams = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        constraints = [models.UniqueConstraint(fields=["object_id", "content_type"], name="search_entry_object_ct")]

    def __str__(self):
        return self.title
