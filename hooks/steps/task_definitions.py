"""Deregister a namespace's replaced task definitions beyond the newest `keep_task_definitions`.

Every deploy registers a new revision of the family `<ns>` and CloudFormation keeps the one it
replaced ACTIVE (blueprints/service.py, UpdateReplacePolicy Retain): the stable gate points the
service back at the previous revision when a rollout fails. Kept forever they pile up, one per
deploy. So, after a promotion retired what it could, the retirement step (and `tenantstack reap
--apply`) deregisters the ACTIVE revisions beyond the newest `keep` (env key
keep_task_definitions, default 5, at least 2: the current one and the way back), never one the
service runs (its own task definition or any of its deployments'). Deregistering is reversible
in effect: a running task keeps running, and the image digests it names stay protected by
their deployed-<env>-<digest> tags (hooks.steps.images). A failure is reported, never raised.

Layers: `plan_deregistration` (pure), `deregister_replaced` (AWS, takes clients).
"""
import logging
import re

from botocore.exceptions import BotoCoreError, ClientError

from hooks import naming
from hooks.aws import resources
from hooks.steps.retention import DELETE, KEEP

logger = logging.getLogger(__name__)

REVISION = re.compile(r":(\d+)$")


def revision_of(arn):
    match = REVISION.search(arn or "")
    return int(match.group(1)) if match else None


def plan_deregistration(arns, keep, in_use):
    """[(arn, KEEP or DELETE, reason)], newest revision first.

    arns: the family's ACTIVE revisions; in_use: the ARNs the service runs."""
    ordered = sorted((arn for arn in arns if revision_of(arn) is not None), key=revision_of, reverse=True)
    verdicts = []
    for rank, arn in enumerate(ordered):
        if arn in in_use:
            verdicts.append((arn, KEEP, "the service runs it"))
        elif rank < keep:
            verdicts.append((arn, KEEP, "one of the newest %d" % keep))
        else:
            verdicts.append((arn, DELETE, "replaced, older than the newest %d" % keep))
    return verdicts


def service_task_definitions(ecs, cluster, service_name):
    """The task definition ARNs the service runs: its own and every deployment's."""
    service = resources.describe_service(ecs, cluster, service_name)
    if service is None:
        return set()
    return {service["taskDefinition"]} | {d["taskDefinition"] for d in service.get("deployments", [])}


def active_revisions(ecs, namespace):
    family = naming.task_family(namespace)
    arns = []
    for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE"):
        # familyPrefix matches by prefix: xy-0146-qa would also list xy-0146-qa2's revisions
        arns.extend(arn for arn in page["taskDefinitionArns"] if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family)
    return arns


def deregister_replaced(ecs, namespace, shared_namespace, keep, apply=True):
    """Plan, then (with apply) deregister. {"verdicts": [...], "deregistered": [arn], "failed": [(arn, why)]}."""
    in_use = service_task_definitions(ecs, naming.cluster_name(shared_namespace), naming.service_name(namespace))
    verdicts = plan_deregistration(active_revisions(ecs, namespace), keep, in_use)
    deregistered, failed = [], []
    for arn, action, reason in verdicts:
        if action != DELETE or not apply:
            continue
        try:
            ecs.deregister_task_definition(taskDefinition=arn)
        except (BotoCoreError, ClientError) as error:
            logger.warning("could not deregister task definition %s: %s", arn, error)
            failed.append((arn, str(error)))
            continue
        logger.info("deregistered task definition %s (%s)", arn, reason)
        deregistered.append(arn)
    return {"verdicts": verdicts, "deregistered": deregistered, "failed": failed}
