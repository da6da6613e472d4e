"""Settings for the portal. ``DJANGO_SETTINGS_MODULE=portal.settings`` is the default.

Everything comes from the environment (see ``.env.example``); :mod:`portal.settings.base`
holds the whole configuration and :mod:`tests.settings` adjusts it for the suite.
"""

from .base import *  # noqa: F401,F403
