"""Local stand-ins for Slack, HubSpot and SendGrid that speak their real HTTP APIs.

Each stand-in is a Starlette app served by uvicorn on 127.0.0.1, port 0, in a
background thread (see `server.serve_in_thread`). Tests point the bot at them
with SLACK_API_URL, HUBSPOT_API_URL, HUBSPOT_AUTHORIZE_URL and SENDGRID_API_URL.
"""
