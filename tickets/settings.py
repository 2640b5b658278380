"""Fixed facts of the ticket service: its package folder and the county names.

What an operator may change (database, staff tokens, origins, throttles) is the
``tickets`` section of the one settings object, :mod:`core.settings`
(``get_settings().tickets``, class ``TicketsSettings``).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
