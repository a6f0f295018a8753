"""A connection's status, as stored (storage/connections.py) and as the cards show it (messages/)."""

CONNECTED = "connected"
NEEDS_RECONNECT = "needs_reconnect"
DISCONNECTED = "disconnected"
