"""The one build step: copy pinned npm assets into crm/static/vendor and compile translations.

Run after `npm ci`. No CDN: everything the pages load is served by us.
"""

import shutil
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "crm" / "core" / "static" / "vendor"

FILES = {
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons/bootstrap-icons.min.css",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff2": "bootstrap-icons/fonts/bootstrap-icons.woff2",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff": "bootstrap-icons/fonts/bootstrap-icons.woff",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "tom-select/dist/js/tom-select.complete.min.js": "tom-select/tom-select.complete.min.js",
    "tom-select/dist/css/tom-select.bootstrap5.min.css": "tom-select/tom-select.bootstrap5.min.css",
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "sortablejs/Sortable.min.js": "sortablejs/Sortable.min.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
    "fullcalendar/index.global.min.js": "fullcalendar/fullcalendar.min.js",
    "@fullcalendar/core/locales/zh-cn.global.min.js": "fullcalendar/zh-cn.min.js",
}


def copy_assets():
    missing = [src for src in FILES if not (NODE / src).exists()]
    if missing:
        sys.exit(f"missing npm files (run `npm ci` first): {', '.join(missing)}")
    for src, dst in FILES.items():
        target = VENDOR / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)


def compile_messages():
    for po_path in (ROOT / "crm" / "locale").glob("*/LC_MESSAGES/*.po"):
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


if __name__ == "__main__":
    copy_assets()
    compile_messages()
    print("assets and translations built")
