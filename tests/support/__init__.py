"""What only the tests use: local stand-ins for outside servers, the real servers on free ports, browsers.

Imported as ``tests.support.<module>`` (pytest runs from the project root).
Polling, free ports and stopping processes are the bot's own helpers
(bot/launch/processes.py), used here as they are.
"""
