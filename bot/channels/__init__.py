"""The bot's input channels: Rasa's own, one module per platform, with what they lack added.

Each is registered in credentials.yml by its module path (bot.channels.rest.ValidatingRestInput),
so a platform's client library is imported only when that platform is switched on.
"""
