"""AWS access: sessions and clients, failure drills, the API rate budget, describing one
resource, waiting, and the local endpoint's quirks.

`from hooks import aws` gives the everyday names: `aws.client`, `aws.Clients`,
`aws.error_code`, `aws.or_none`.
"""
from hooks.aws.clients import Clients, client, error_code, or_none, session  # noqa: F401
