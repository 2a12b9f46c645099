"""The bot kinds: what a bot does with a neutral request (chat, image, video)."""
