"""Base for the blueprints of a customer project's pipeline (namespace: the project, e.g. xy-0146).

A project is no tenant namespace: its stacks hold what all of the project's namespaces
share in delivery (artifact bucket and key, pipeline). Resources carry the project's tags
(hooks.naming.project_tags): Customer, Project, Environment "delivery", Namespace <project>.
"""
from blueprints.base import TenantstackBlueprint
from hooks import naming


class ProjectBlueprint(TenantstackBlueprint):
    """A TenantstackBlueprint whose Namespace variable is a project key (naming.parse_project)."""

    NAMESPACE_KIND = "project"

    def resource_tags(self):
        return naming.project_tags(self.namespace)
