"""Custom actions for the 邑问 Rasa assistant (rasa-sdk action server, app env).

Start with ``python -m rasa_sdk --actions bot.actions``. When this package is
imported by the action server it preloads the knowledge engine and starts the
outbox retry worker (:mod:`bot.actions.startup`); imported anywhere else it
does nothing heavy.
"""

from bot.actions import startup

if startup.is_action_server():
    startup.start()
