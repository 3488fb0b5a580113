"""The deployment engine's side: `stacker_compat` (the one module that imports the engine, stacker
1.7.2 or runway's CFNgin, and picks it: blueprint base, variable types, lookups, config loading),
the offline renderer of reviewable templates, `cfngin_cli` (stacker's command line on CFNgin) and
`runway_layout` (the CFNgin modules runway.yml names). docs/engines.md."""
