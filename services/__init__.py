"""Services: the flows (connect, invite, SendGrid key, usage). They receive what they need and never import handlers or the container."""
