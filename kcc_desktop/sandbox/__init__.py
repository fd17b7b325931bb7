"""Local stand-ins for Xero and QuickBooks Online that speak their real HTTP APIs.

The sandbox plays the accounting package: it imports nothing else of the app, and the app reaches it
only over HTTP, through the official SDKs, exactly as it reaches the real services.
"""
