"""fmgate: Amazon Bedrock foundation models as Poe server bots (and more fronts later)."""

__version__ = "0.1.0"
