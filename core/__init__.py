"""The ground floor: facts and plumbing every other package shares.

Settings, the Jiangmen places table, the phone pattern, the ticket-reference format,
secrets, the personal-data log filter, progress reporting and the structured
replies (payloads and their text) live here, so that
``knowledge``, ``retrieval``, ``tickets``, ``bot``, ``channels`` and ``yiwen`` can all
use them without importing upward. Nothing here imports another package of this project.
"""
