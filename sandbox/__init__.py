"""The sandbox: local stand-ins for Slack, HubSpot and SendGrid that speak their real HTTP APIs.

Shipped with the bot (like moto or stripe-mock) so a person can try it without any account, and used by
the test suite. Everything here binds to 127.0.0.1 only.
"""
