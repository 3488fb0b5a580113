"""Does a permissions boundary cover what a role's own policies grant?

A role's effective permissions are what its own policies allow AND its boundary allows.
A boundary that misses one of the role's grants silently takes that grant away (the
application breaks on AWS, and the local endpoint, which enforces no boundary, never
shows it). So every grant is turned into concrete requests, each asked of the role's own
policies (which must allow it: otherwise the sample is wrong) and of the boundary.

A grant is sampled by filling its resource pattern's wildcards twice: `*` with a plain
name and with a path that crosses `/` and `:`, `?` with one character. A condition the
grant carries fixes the context key it names to a value sampled the same way (an
S3 listing's s3:prefix), and every request is made in the world's own account
(aws:ResourceAccount).
"""
from tests.security import iam_eval
from tests.security.world import ACCOUNT

FILLERS = ("x", "a/b:c")  # what `*` becomes; `?` becomes ONE_CHARACTER
ONE_CHARACTER = "z"
SAMPLED_OPERATORS = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")


def concrete(pattern, filler):
    """A value the IAM wildcard `pattern` matches."""
    return "".join(filler if c == "*" else ONE_CHARACTER if c == "?" else c for c in pattern)


def granted_requests(documents, principal, base_context):
    """Concrete requests (iam_eval.Request) that each Allow statement of `documents` grants."""
    requests = []
    for document in documents:
        for statement in iam_eval.statements(document):
            if statement["Effect"] != "Allow":
                continue
            for filler in FILLERS:
                context = dict(base_context, **{"aws:ResourceAccount": ACCOUNT})
                for operator, keys in statement.get("Condition", {}).items():
                    if operator not in SAMPLED_OPERATORS:
                        raise ValueError("cannot sample a value for condition operator %s (statement %s)"
                                         % (operator, statement.get("Sid")))
                    context.update({key: concrete(iam_eval.as_list(values)[0], filler) for key, values in keys.items()})
                for action in iam_eval.as_list(statement["Action"]):
                    for resource in iam_eval.as_list(statement["Resource"]):
                        sample = resource if resource == "*" else concrete(resource, filler)
                        requests.append(iam_eval.Request(action, sample, principal, context))
    return requests


def describe(request):
    extra = {k: v for k, v in request.context.items() if k.startswith("s3:")}
    return "%s on %s%s" % (request.action, request.resource, " %s" % extra if extra else "")


def outside_boundary(role_documents, boundary_document, principal, base_context):
    """The role's grants its boundary does not allow, as readable strings ([] when it covers them all).

    Raises ValueError when a sample is not granted by the role itself (a sampling error,
    which would make the check say nothing)."""
    outside = []
    for request in granted_requests(role_documents, principal, base_context):
        own = iam_eval.evaluate(request, role_documents, (), iam_eval.ASSUME_DENY)
        if own != iam_eval.ALLOWED:
            raise ValueError("sampled %s, which the role's own policies do not grant (%s)" % (describe(request), own))
        if iam_eval.evaluate(request, [boundary_document], (), iam_eval.ASSUME_DENY) != iam_eval.ALLOWED:
            outside.append(describe(request))
    return outside
