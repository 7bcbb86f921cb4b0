"""The kernel's models live in their mechanism's package; Django finds them here."""

from .access.models import ApiToken, Role, RoleGrant  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .entities.models import SavedView, Tag  # noqa: F401
from .events.models import EventRecord  # noqa: F401
from .numbering.models import NumberingRule, NumberingSequence  # noqa: F401
from .timeline.models import Note  # noqa: F401
from .dictionary.models import DictionaryItem, DictionaryKind, ParameterValue  # noqa: F401
from .versions.models import ConfigVersion  # noqa: F401
