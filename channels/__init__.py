"""Rasa input channels for where borrowers are: the in-app widget (socket.io with
a signed login), SMS and WhatsApp through Twilio, and Telegram.

Each connector checks that a request really comes from its platform (a signed
token or webhook signature) before anything reaches the assistant, and passes
the identity it vouches for to the action server signed (bot.domain.identity).
"""

from components import patches

patches.install()  # `rasa run` loads the channels of credentials.yml before the first message (components/patches)
