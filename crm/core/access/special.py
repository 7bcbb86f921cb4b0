"""Special permissions (特殊权限, SYS-3). Apps add their own with `register_special`."""

from django.utils.translation import gettext_lazy as _

SPECIAL_PERMISSIONS: dict[str, object] = {}


def register_special(code, label):
    SPECIAL_PERMISSIONS[code] = label


register_special("reveal_phone", _("See unmasked phone numbers (each reveal is logged)"))
register_special("see_cost", _("See cost and margin"))
register_special("edit_closed", _("Edit closed records"))
register_special("manage_pool", _("Manage the public pool"))
register_special("handover", _("Hand over a leaving employee's records"))
register_special("view_audit", _("View the audit trail and login history"))
register_special("manage_roles", _("Manage roles and permissions"))
