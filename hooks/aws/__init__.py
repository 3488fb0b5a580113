"""AWS access: sessions and clients, failure drills, the API rate budget, the local endpoint's quirks."""
from hooks.aws.clients import client, error_code, session  # noqa: F401
