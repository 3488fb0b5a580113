import json

from hooks import naming
from hooks.steps import credentials

NS = "xy-0146-qa"


def secret_value(aws):
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=naming.db_secret_name(NS))["SecretString"])


def test_the_secret_is_created_once_tagged_and_recorded_by_arn(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    first = credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    value = secret_value(aws)
    assert first["created"] and value["username"] == "admin" and len(value["password"]) == 32
    again = credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    assert again == {"arn": first["arn"], "created": False}
    assert secret_value(aws) == value  # the password never changes under a running database
    assert ssm.get_parameter(Name=naming.ssm_secret_arn_parameter(NS))["Parameter"]["Value"] == first["arn"]
    tags = secrets.describe_secret(SecretId=first["arn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == naming.tags(NS)


def test_the_username_follows_the_source_snapshot_and_the_password_stays(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    before = secret_value(aws)
    credentials.ensure_db_secret_exists(secrets, ssm, NS, "root")
    assert secret_value(aws) == dict(before, username="root")


def test_the_application_users_secret_is_its_own_with_a_fixed_user_and_recorded_by_arn(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    master = credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    app = credentials.ensure_app_secret_exists(secrets, ssm, NS)
    assert app["created"] and app["arn"] != master["arn"]
    value = json.loads(secrets.get_secret_value(SecretId=naming.db_app_secret_name(NS))["SecretString"])
    assert value["username"] == naming.APP_DB_USER == "app" and len(value["password"]) == 32
    assert value["password"] != secret_value(aws)["password"]
    assert ssm.get_parameter(Name=naming.ssm_app_secret_arn_parameter(NS))["Parameter"]["Value"] == app["arn"]
    assert credentials.ensure_app_secret_exists(secrets, ssm, NS) == {"arn": app["arn"], "created": False}


def test_a_secret_whose_arn_was_never_recorded_is_found_and_recorded(aws):
    """A run killed between CreateSecret and PutParameter: the next one finds the secret by name."""
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    made = credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    ssm.delete_parameter(Name=naming.ssm_secret_arn_parameter(NS))
    assert credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin") == {"arn": made["arn"], "created": False}
    parameter = naming.ssm_secret_arn_parameter(NS)
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == made["arn"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == naming.tags(NS)


def test_both_arns_are_read_in_one_call_absent_ones_as_none(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    master = credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    names = (naming.ssm_secret_arn_parameter(NS), naming.ssm_app_secret_arn_parameter(NS))
    assert credentials.recorded_arns(ssm, names) == {names[0]: master["arn"], names[1]: None}
