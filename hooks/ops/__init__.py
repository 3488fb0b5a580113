"""What an operator does to a tenant outside a deploy, as planning plus AWS functions the CLI
commands call: promotion as an env-file change, rollback, reaping orphans, capturing a snapshot."""
