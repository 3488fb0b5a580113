"""Input, checked before anything changes: the env-file schema and its value rules, the one
env-file reader, hook arguments, and where a project's configs live. Pure."""
