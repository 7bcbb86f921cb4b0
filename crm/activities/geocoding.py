"""Reverse geocoding of check-ins (ACT-6): coordinates from the phone → a street address.

Optional. Configured by the system parameters `geocoder_provider`, `geocoder_url`,
`geocoder_key` (or the settings CRM_GEOCODER_URL / CRM_GEOCODER_KEY); without a URL nothing is
ever called and users type the address by hand. A check-in without a typed address queues the
retryable job `geocode_check_in` after commit, which fills the address with one conditional
UPDATE (a typed address always wins). Adapters sit behind one small interface: `reverse(lat,
lon) -> str`; AMap's "regeo" (高德 逆地理编码) is the first.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.core.dictionary.parameters import Parameter, param, register_parameter

TIMEOUT = 10  # seconds per request; a slow provider fails the attempt and the job retries

GEO = _("Check-in geocoding")
register_parameter(Parameter("geocoder_provider", "choice", "amap", _("Geocoding provider"),
                             _("The format of the reverse geocoding service."),
                             choices=[("amap", _("AMap (高德) regeo"))], group=GEO))
register_parameter(Parameter("geocoder_url", "str", "", _("Geocoding service URL"),
                             _("For example https://restapi.amap.com/v3/geocode/regeo. Empty: check-in addresses "
                               "are typed by hand."), group=GEO))
register_parameter(Parameter("geocoder_key", "str", "", _("Geocoding service key"),
                             _("The API key the provider issued."), group=GEO))


class GeocodingError(Exception):
    """The provider failed or refused; the job records it and retries."""


class AMapGeocoder:
    """AMap Web API "regeo": GET <url>?key=…&location=<lon>,<lat>&output=JSON →
    {"status": "1", "info": "OK", "regeocode": {"formatted_address": "…"}}; status "0" is an error
    with its reason in `info`. AMap answers [] instead of "" for an unknown address."""

    def __init__(self, url, key, timeout=TIMEOUT):
        self.url, self.key, self.timeout = url, key, timeout

    def reverse(self, latitude, longitude):
        query = urllib.parse.urlencode({"key": self.key, "location": f"{float(longitude):.6f},{float(latitude):.6f}",
                                        "extensions": "base", "output": "JSON"})
        sep = "&" if "?" in self.url else "?"
        try:
            with urllib.request.urlopen(self.url + sep + query, timeout=self.timeout) as response:
                data = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GeocodingError(gettext("The geocoding request failed: %(error)s") % {"error": exc}) from exc
        if str(data.get("status")) != "1":
            raise GeocodingError(gettext("The geocoding service refused: %(reason)s") % {"reason": data.get("info") or data})
        address = (data.get("regeocode") or {}).get("formatted_address")
        return address.strip()[:255] if isinstance(address, str) else ""


ADAPTERS = {"amap": AMapGeocoder}


def configured():
    """The configured geocoder, or None (then nothing is ever called)."""
    url = param("geocoder_url") or getattr(settings, "CRM_GEOCODER_URL", "")
    if not url:
        return None
    key = param("geocoder_key") or getattr(settings, "CRM_GEOCODER_KEY", "")
    adapter = ADAPTERS.get(param("geocoder_provider"), AMapGeocoder)
    return adapter(url, key)


def queue_for(activity):
    """After commit, look up the address of a check-in that has a position and no typed address."""
    if activity.latitude is None or activity.longitude is None or activity.address or configured() is None:
        return None
    from crm.core.jobs import enqueue_after_commit

    from .jobs import geocode_check_in

    return enqueue_after_commit(geocode_check_in, activity.pk)


def fill_address(activity_id):
    """The job's work: look the address up and store it unless someone typed one meanwhile."""
    from crm.core.audit import log
    from crm.core.audit.models import AuditEntry

    from .models import Activity

    activity = Activity.all_objects.filter(pk=activity_id).first()
    if activity is None or activity.address or activity.latitude is None:
        return "skipped"
    geocoder = configured()
    if geocoder is None:
        return "not configured"
    address = geocoder.reverse(activity.latitude, activity.longitude)
    if not address:
        return "no address"
    if Activity.all_objects.filter(pk=activity.pk, address="").update(address=address):
        log.record(None, AuditEntry.Action.UPDATE, activity, changes={"address": ["", address]},
                   extra={"geocoded": True})
        return address
    return "typed meanwhile"
