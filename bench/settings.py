"""Settings for the benchmarks only: the local settings on PostgreSQL, plus the bare view's URLconf.

Never used by the product. bench/generate.py points DJANGO_SETTINGS_MODULE here unless the
environment names another module.
"""

from hotline.settings.local import *  # noqa: F403

DEBUG = False
# Pages render without `collectstatic` (no manifest); the product's pages are otherwise unchanged.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The product's URLs plus /bench/bare-insert/, the baseline for bench/intake.py.
ROOT_URLCONF = "bench.urls"

import warnings  # noqa: E402

# WhiteNoise looks for collected files that the benchmarks do not need.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
