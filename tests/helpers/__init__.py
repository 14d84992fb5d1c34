"""Helpers shared by the tests: strategies, servers, workers and small fixtures."""
