"""Provider integrations (HubSpot, SendGrid, the Slack Web API client) and the HTTP layer they share."""
