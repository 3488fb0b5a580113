"""The per-namespace deploy lock: `rules` (the record and the recovery rule, pure), `store` (its
SSM parameters), `deploy_lock` (acquire, fence, release, clear), `processes` (is a pid alive).
Standard library only at import time here: scripts/local_endpoint.py imports `processes`."""
