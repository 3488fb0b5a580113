import json

import pytest

from blueprints.base import BlueprintError
from blueprints.database import TenantDatabase
from hooks import naming
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import (
    config_variables,
    consumed_outputs,
    properties,
    resources_of_type,
    tag_problems,
)

TIMESTAMP = "20260115t103000z"

GOLDEN_CASES = {
    "database-xy-0146-qa": {"Namespace": "xy-0146-qa", "Timestamp": TIMESTAMP, "SourceNamespace": "xy-0146-dev"},
    "database-xy-0146-prod": {
        "Namespace": "xy-0146-prod",
        "Timestamp": "20260201t090000z",
        "SourceNamespace": "xy-0146-dev",
    },
}


def render(namespace="xy-0146-qa", timestamp=TIMESTAMP, source="xy-0146-dev"):
    return render_blueprint(
        TenantDatabase, {"Namespace": namespace, "Timestamp": timestamp, "SourceNamespace": source}
    )


def blueprint_error(**variables):
    with pytest.raises(BlueprintError) as error:
        render(**variables)
    return str(error.value)


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, TenantDatabase, GOLDEN_CASES[case_id])


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "xy-0146-prod"])
def test_every_resource_carries_the_namespace_tags(namespace):
    problems, untagged = tag_problems(render(namespace), naming.tags(namespace))
    assert problems == []
    assert untagged == set()


def render_with(namespace, source, snapshot_copy):
    return render_blueprint(TenantDatabase, {"Namespace": namespace, "Timestamp": TIMESTAMP,
                                             "SourceNamespace": source, "SnapshotCopy": snapshot_copy})


@pytest.mark.parametrize(
    "namespace, source, snapshot_copy, snapshot",
    [
        ("xy-0146-qa", "xy-0146-dev", "across-tiers", "xy-0146-dev-20260115t103000z"),  # same tier: as it is
        ("xy-0146-dev", "xy-0146-dev", "across-tiers", "xy-0146-dev-20260115t103000z"),  # its own snapshot
        ("xy-0146-prod", "xy-0146-qa", "across-tiers", "xy-0146-prod-20260115t103000z"),  # other tier: its copy
        ("xy-0146-qa", "xy-0146-dev", "always", "xy-0146-qa-20260115t103000z"),  # its copy of the dev snapshot
        ("xy-0146-dev", "xy-0146-dev", "always", "xy-0146-dev-20260115t103000z"),  # its own is its own
    ],
    ids=["same-tier", "own-source", "other-tier-copy", "always-copy", "always-own-source"],
)
def test_the_database_restores_the_source_within_a_tier_and_its_own_copy_across_tiers(
        namespace, source, snapshot_copy, snapshot):
    database = properties(render_with(namespace, source, snapshot_copy), "Database")
    assert database["DBSnapshotIdentifier"] == snapshot == naming.restores_from(namespace, source, TIMESTAMP,
                                                                                snapshot_copy)


def test_an_unknown_snapshot_copy_policy_is_refused():
    with pytest.raises(BlueprintError, match="SnapshotCopy"):
        render_with("xy-0146-qa", "xy-0146-dev", "sometimes")


def test_the_database_is_restored_from_the_timestamped_snapshot_and_named_after_it():
    template = render()
    assert list(resources_of_type(template, "AWS::RDS::DBInstance")) == ["Database"]
    database = properties(template, "Database")
    assert database["DBInstanceIdentifier"] == "xy-0146-qa-db-20260115t103000z"
    assert database["DBSnapshotIdentifier"] == "xy-0146-dev-20260115t103000z"  # qa and dev share a tier
    assert database["Engine"] == "mysql"
    assert "EngineVersion" not in database  # the snapshot's version
    assert "MasterUsername" not in database  # the snapshot's user
    # The namespace's own password, resolved by CloudFormation; never the value itself.
    assert database["MasterUserPassword"] == "{{resolve:secretsmanager:xy-0146-qa/db/master:SecretString:password}}"


def test_the_database_is_encrypted_private_protected_and_never_deleted_by_cloudformation():
    template = render()
    resource = template["Resources"]["Database"]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    database = resource["Properties"]
    assert database["StorageEncrypted"] is True
    assert database["PubliclyAccessible"] is False
    assert database["DeletionProtection"] is True
    assert database["CopyTagsToSnapshot"] is True
    assert database["AutoMinorVersionUpgrade"] is True
    assert database["BackupRetentionPeriod"] == {"Ref": "BackupRetentionDays"}
    assert database["MultiAZ"] == {"Ref": "MultiAZ"}
    assert database["DBInstanceClass"] == {"Ref": "InstanceClass"}
    assert database["DBSubnetGroupName"] == {"Ref": "DatabaseSubnetGroup"}
    # The key is the snapshot's (hooks.steps.tier_copy puts it under the tier key): CloudFormation
    # must not get KmsKeyId together with DBSnapshotIdentifier.
    assert "KmsKeyId" not in database
    assert database["DBParameterGroupName"] == {"Ref": "ParameterGroupName"}
    assert database["VPCSecurityGroups"] == [{"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}]
    assert properties(template, "DatabaseSubnetGroup")["SubnetIds"] == {"Ref": "PrivateSubnetIds"}


def test_the_database_security_group_admits_mysql_from_the_service_only():
    template = render()
    assert list(resources_of_type(template, "AWS::EC2::SecurityGroup")) == ["DatabaseSecurityGroup"]
    assert resources_of_type(template, "AWS::EC2::SecurityGroupIngress") == {}
    group = properties(template, "DatabaseSecurityGroup")
    assert group["VpcId"] == {"Ref": "VpcId"}
    rules = group["SecurityGroupIngress"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["SourceSecurityGroupId"]) for r in rules] == [
        ("tcp", 3306, 3306, {"Ref": "ServiceSecurityGroupId"})
    ]
    assert not any("CidrIp" in rule or "CidrIpv6" in rule for rule in rules)
    # No egress: a group without egress rules would allow all outbound traffic.
    assert [(r["IpProtocol"], r["CidrIp"]) for r in group["SecurityGroupEgress"]] == [("-1", "127.0.0.1/32")]


def test_the_tiers_tls_parameter_group_enters_as_a_parameter_and_no_key_does():
    parameters = render()["Parameters"]
    assert parameters["ParameterGroupName"]["Type"] == "String"
    assert "KmsKeyArn" not in parameters


def test_the_database_registers_itself_under_the_namespaces_databases_path():
    parameter = properties(render(), "DatabaseRegistration")
    assert parameter["Name"] == "/xy-0146-qa/db/databases/20260115t103000z"
    assert parameter["Name"].startswith(naming.ssm_databases_path("xy-0146-qa"))
    assert parameter["Type"] == "String"
    text, variables = parameter["Value"]["Fn::Sub"]
    assert json.loads(text) == {
        "instance_id": "xy-0146-qa-db-20260115t103000z",
        "stack": "xy-0146-qa-db-20260115t103000z",
        "snapshot": "xy-0146-dev-20260115t103000z",
        "source": "xy-0146-dev-20260115t103000z",
        "endpoint": "${EndpointAddress}",
        "port": "${EndpointPort}",
    }
    assert variables == {
        "EndpointAddress": {"Fn::GetAtt": ["Database", "Endpoint.Address"]},
        "EndpointPort": {"Fn::GetAtt": ["Database", "Endpoint.Port"]},
    }
    assert " " not in text  # compact
    assert parameter["Description"] == (
        "Registers database xy-0146-qa-db-20260115t103000z (from snapshot xy-0146-dev-20260115t103000z)"
    )
    copied = properties(render_with("xy-0146-qa", "xy-0146-dev", "always"), "DatabaseRegistration")
    assert copied["Description"] == (
        "Registers database xy-0146-qa-db-20260115t103000z (from snapshot xy-0146-qa-20260115t103000z, "
        "a copy of xy-0146-dev-20260115t103000z)"
    )


def test_outputs_are_what_the_tenant_config_reads():
    outputs = render()["Outputs"]
    assert outputs == {
        "DatabaseEndpointAddress": {"Value": {"Fn::GetAtt": ["Database", "Endpoint.Address"]}},
        "DatabaseEndpointPort": {"Value": {"Fn::GetAtt": ["Database", "Endpoint.Port"]}},
        "DatabaseInstanceId": {"Value": {"Ref": "Database"}},
        "DatabaseSecurityGroupId": {"Value": {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}},
    }
    assert consumed_outputs("db") <= set(outputs)


def test_variables_match_the_tenant_config():
    defined = TenantDatabase(name="db", context=make_context(None, {})).variable_definitions()
    assert config_variables("blueprints.database.TenantDatabase") == [set(defined)]


def test_cloudformation_parameters_carry_no_stacker_validator():
    defined = TenantDatabase(name="db", context=make_context(None, {})).variable_definitions()
    assert [name for name, spec in defined.items() if "validator" in spec] == []


@pytest.mark.parametrize(
    "timestamp, rule",
    [
        pytest.param("2026-01-15", "expected %s" % naming.TIMESTAMP_SHAPE, id="not-the-format"),
        pytest.param("20260115T103000Z", "expected %s" % naming.TIMESTAMP_SHAPE, id="upper-case"),
        pytest.param(
            "20260230t103000z", "not a real date and time (%s)" % naming.TIMESTAMP_SHAPE, id="no-such-date"
        ),
    ],
)
def test_a_bad_timestamp_is_refused_naming_the_value_and_the_rule(timestamp, rule):
    assert blueprint_error(timestamp=timestamp) == (
        "blueprint TenantDatabase, variable Timestamp: %r is invalid: %s" % (timestamp, rule)
    )


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("xy-0147-dev", id="other-project"),
        pytest.param("ab-0146-dev", id="other-customer"),
    ],
)
def test_a_source_namespace_of_another_project_is_refused(source):
    assert blueprint_error(source=source) == (
        "blueprint TenantDatabase, variable SourceNamespace: %r is invalid: xy-0146-qa restores only "
        "from its own project's snapshots (xy-0146-*), never from another project's data" % source
    )


def test_a_source_namespace_that_is_no_namespace_is_refused():
    assert blueprint_error(source="common-nonprod") == (
        "blueprint TenantDatabase, variable SourceNamespace: 'common-nonprod' is invalid: it is a shared "
        "namespace; a tenant namespace is expected (%s, e.g. xy-0146-dev)" % naming.NAMESPACE_SHAPE
    )


def test_any_environment_of_the_project_may_be_the_source():
    database = properties(render(namespace="xy-0146-prod", source="xy-0146-qa"), "Database")
    assert database["DBSnapshotIdentifier"] == "xy-0146-prod-20260115t103000z"  # its copy of qa's snapshot
    assert database["DBInstanceIdentifier"] == "xy-0146-prod-db-20260115t103000z"
