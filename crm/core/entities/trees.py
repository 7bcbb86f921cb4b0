"""Hierarchies: the materialised-path tree (departments, product categories) and the cycle check
for any self-reference (parent company, reports-to, manager). One implementation each."""

from django.db import models


def creates_cycle(model, pk, start_id, field, max_hops=1000):
    """Would pointing record `pk` at `start_id` through `field` close a loop? Walks the chain
    upwards one indexed lookup per level (hierarchies are shallow); recycle-bin rows count."""
    if start_id is None:
        return False
    if pk is not None and start_id == pk:
        return True
    manager = model._base_manager
    seen, cur = {pk}, start_id
    for _hop in range(max_hops):
        if cur is None:
            return False
        if cur in seen:
            return True
        seen.add(cur)
        cur = manager.filter(pk=cur).values_list(f"{field}_id", flat=True).first()
    return True  # deeper than any real hierarchy: treat as a loop rather than walk forever


class TreeNode(models.Model):
    """A node with a materialised path `/1/4/9/`: a subtree is one indexed prefix query. The
    concrete model declares `parent = ForeignKey("self", ...)`; the write services call the hooks."""

    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    def moves_under_itself(self):
        """True if the chosen parent is this node or one of its descendants."""
        if not (self.parent_id and self.pk):
            return False
        parent_path = type(self)._base_manager.filter(pk=self.parent_id).values_list("path", flat=True).first() or ""
        return self.parent_id == self.pk or f"/{self.pk}/" in parent_path

    def compute_path(self):
        parent_path = self.parent.path if self.parent_id else "/"
        return f"{parent_path}{self.pk}/", (self.parent.depth + 1 if self.parent_id else 0)

    def after_create(self, user):
        self.path, self.depth = self.compute_path()
        type(self)._base_manager.filter(pk=self.pk).update(path=self.path, depth=self.depth)

    def after_update(self, user, changes):
        if "parent" not in changes:
            return
        manager = type(self)._base_manager
        old_prefix = self.path
        self.path, self.depth = self.compute_path()
        for node in manager.filter(path__startswith=old_prefix).order_by("depth"):
            node.path = self.path + node.path[len(old_prefix):]
            node.depth = node.path.count("/") - 2
            manager.filter(pk=node.pk).update(path=node.path, depth=node.depth)

    @property
    def indent(self):
        return range(self.depth)
