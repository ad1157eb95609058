"""Shijian (市监): smart market-supervision platform."""

__version__ = "0.1.0"
