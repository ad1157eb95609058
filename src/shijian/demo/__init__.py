"""The demo district: set up once (generate, load, ingest, build, users, a first model and draw), then reused."""

from shijian.demo.setup import DEMO_PASSWORD, DEMO_USERS, demo_authenticator_keys, prepare

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "demo_authenticator_keys", "prepare"]
