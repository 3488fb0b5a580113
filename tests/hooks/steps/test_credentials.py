import json

from hooks import naming
from hooks.steps import credentials

NS = "xy-0146-qa"


def secret_value(aws):
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=naming.db_secret_name(NS))["SecretString"])


def test_the_secret_is_created_once_tagged_and_recorded_by_arn(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    first = credentials.ensure_db_secret_exists(secrets, ssm, NS, "app")
    value = secret_value(aws)
    assert first["created"] and value["username"] == "app" and len(value["password"]) == 32
    again = credentials.ensure_db_secret_exists(secrets, ssm, NS, "app")
    assert again == {"arn": first["arn"], "created": False}
    assert secret_value(aws) == value  # the password never changes under a running database
    assert ssm.get_parameter(Name=naming.ssm_secret_arn_parameter(NS))["Parameter"]["Value"] == first["arn"]
    tags = secrets.describe_secret(SecretId=first["arn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == naming.tags(NS)


def test_the_username_follows_the_source_snapshot_and_the_password_stays(aws):
    secrets, ssm = aws.client("secretsmanager"), aws.client("ssm")
    credentials.ensure_db_secret_exists(secrets, ssm, NS, "app")
    before = secret_value(aws)
    credentials.ensure_db_secret_exists(secrets, ssm, NS, "admin")
    assert secret_value(aws) == dict(before, username="admin")
