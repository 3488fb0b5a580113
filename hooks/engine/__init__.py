"""The deployment engine's side: `stacker_compat` (the one module that imports stacker: blueprint
base, variable types, lookups, config loading) and the offline renderer of reviewable templates."""
