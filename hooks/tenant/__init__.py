"""The read model of a tenant: `inventory` (its databases, pointer and what the service references,
at a cost flat in the number of tenants), `audit_trail` (the pointer's history as flips) and
`status` (each database's role, the service and the lock, for `tenantstack status`)."""
