"""tenantstack blueprints: troposphere templates as stacker Blueprint subclasses."""
