"""The Poe front: Poe's server-bot protocol (HTTP POST + Server-Sent Events) over the registry."""
