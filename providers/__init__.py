"""Provider integrations (HubSpot, SendGrid) and the HTTP layer they share."""
