"""Tests of the Bedrock layer."""
