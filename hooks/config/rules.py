"""The rules of env-file values: each parser takes (value, key), returns the parsed value or
raises NamingError naming the key, the value and the rule.

Pure: no AWS, no stacker. hooks/config/settings.py builds the schemas from these; the
blueprints reuse the patterns so CloudFormation enforces the same rules again.
"""
import ipaddress
import re

from hooks import naming


def _rule(key, value, rule):
    return naming.NamingError("env key %s" % key, value, rule)


def integer(low, high):
    def parse(value, key):
        if not re.match(r"^[0-9]+$", str(value)) or not low <= int(value) <= high:
            raise _rule(key, value, "expected a whole number from %d to %d" % (low, high))
        return int(value)

    return parse


def choice(*options):
    def parse(value, key):
        if value not in options:
            raise _rule(key, value, "expected one of %s" % ", ".join(options))
        return value

    return parse


def pattern(regex, description):
    def parse(value, key):
        if not isinstance(value, str) or not re.match(regex, value):
            raise _rule(key, value, "expected %s" % description)
        return value

    return parse


def hostname(value, key):
    labels = str(value).split(".")
    label = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    if len(value) > 253 or len(labels) < 2 or not all(label.match(part) for part in labels):
        raise _rule(key, value, "expected a lower-case DNS host name such as xy-0146-qa.apps.example.com")
    return value


IMAGE_PATTERN = r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
IMAGE_RULE = "an image pinned to a tag or digest (repository:tag or repository@sha256:...)"
CERTIFICATE_ARN_PATTERN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
CERTIFICATE_ARN_RULE = "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"


def image(value, key):
    """A container image pinned to a tag or digest; a task definition must be immutable."""
    match = re.match(IMAGE_PATTERN, value)
    if not match or value.endswith(":latest"):
        raise _rule(
            key, value, "expected %s, not :latest" % IMAGE_RULE
        )
    return value


RFC1918_BLOCKS = tuple(ipaddress.ip_network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
CIDR_RULE = "expected a private (RFC 1918) IPv4 block from /16 to /20, such as 10.10.0.0/16"
# The values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
)


def cidr(value, key):
    try:
        network = ipaddress.ip_network(value)
    except ValueError:
        raise _rule(key, value, CIDR_RULE) from None
    private = any(network.version == 4 and network.subnet_of(block) for block in RFC1918_BLOCKS)
    if not private or not 16 <= network.prefixlen <= 20:
        raise _rule(key, value, CIDR_RULE)
    return value


def log_retention(value, key):
    if not str(value).isdigit() or int(value) not in LOG_RETENTION_DAYS:
        raise _rule(
            key, value, "expected a retention CloudWatch Logs accepts: %s" % ", ".join(map(str, LOG_RETENTION_DAYS))
        )
    return int(value)


def namespace_of_kind(parse):
    def parse_key(value, key):
        return parse(value, "env key %s" % key).name

    return parse_key


def timestamp(value, key):
    return naming.parse_timestamp(value, "env key %s" % key)


def timestamp_or_latest(value, key):
    """A timestamp, or `latest` (resolved before the engine starts: hooks/run/latest.py)."""
    return value if value == naming.LATEST_TIMESTAMP else timestamp(value, key)


def certificate_arn(value, key):
    return pattern(
        CERTIFICATE_ARN_PATTERN,
        CERTIFICATE_ARN_RULE,
    )(value, key)


# The Fargate task sizes: the memory (MiB) AWS accepts with each task CPU value, from "Task CPU
# and memory", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
# (the same table: task_definition_parameters.html#task_size). Any other pair fails the service
# stack mid-deploy. 8192 and 16384 CPU (Linux platform 1.4.0) are not offered: the service
# blueprint's TaskCpu allows up to 4096, and TaskMemory up to 30720.
FARGATE_MEMORY = {
    "256": (512, 1024, 2048),
    "512": tuple(range(1024, 4096 + 1, 1024)),
    "1024": tuple(range(2048, 8192 + 1, 1024)),
    "2048": tuple(range(4096, 16384 + 1, 1024)),
    "4096": tuple(range(8192, 30720 + 1, 1024)),
}


def memory_choices(cpu):
    """The task_memory values Fargate accepts with `cpu`, in words ("512, 1024 or 2048", "1024 to 4096 in steps
    of 1024")."""
    memory = FARGATE_MEMORY[cpu]
    steps = {b - a for a, b in zip(memory, memory[1:])}
    if len(steps) == 1 and len(memory) > 3:
        return "%d to %d in steps of %d" % (memory[0], memory[-1], steps.pop())
    return "%s or %d" % (", ".join(map(str, memory[:-1])), memory[-1])


def fargate_size_problem(cpu, memory, defaulted=()):
    """Why task_cpu `cpu` and task_memory `memory` are no Fargate task size (FARGATE_MEMORY); None when they are.

    A cross-key rule (hooks/config/settings.py applies it): it names both values (`defaulted`: the keys
    the env file left to their default), the memory that CPU accepts, and a CPU that takes the memory."""
    if memory in FARGATE_MEMORY[cpu]:
        return None
    fits = [other for other, accepted in FARGATE_MEMORY.items() if memory in accepted]
    alternative = ", or a task_cpu that takes %d MiB (%s)" % (memory, ", ".join(fits)) if fits else (
        " (no task_cpu takes %d MiB)" % memory)
    return (
        "env keys task_cpu %s%s and task_memory %d%s are not a Fargate task size: with task_cpu %s, task_memory "
        "must be %s (AWS would fail the service stack mid-deploy); set task_memory to one of those%s"
        % (cpu, " (the default)" if "task_cpu" in defaulted else "",
           memory, " (the default)" if "task_memory" in defaulted else "",
           cpu, memory_choices(cpu), alternative)
    )
