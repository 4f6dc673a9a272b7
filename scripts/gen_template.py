#!/usr/bin/env python3
"""Writes template.yaml (AWS SAM) from the code's route table and infra/functions.json, and the
Terraform variables of the deployment's settings (infra/terraform/settings.tf) from SETTINGS.

    make infra    # writes infra/routes.json, infra/functions.json, then:
    python3 scripts/gen_template.py infra/routes.json > template.yaml
    python3 scripts/gen_template.py --terraform-settings > infra/terraform/settings.tf

tests/api/deploy.rs fails when template.yaml or settings.tf no longer match, so a new route or
setting means re-running `make infra`.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The settings a deployment chooses (README.md's Configuration table): each is a SAM parameter
# and a Terraform variable with the README's default, passed to every function's environment.
# (variable, kind, default, constraints); kind is "string", "number" or "bool"; constraints are
# "allowed" values, a string's "pattern" or a number's "min" / "max". A default of None makes
# the setting required (a SAM parameter without Default, a Terraform variable without default).
# An empty default leaves the variable unset, so
# the service's own default applies (e.g. one derived from the request). The SAM parameter is the
# variable in CamelCase and the Terraform variable in snake_case, unless NAMES says otherwise.
# Adding a setting is one line here, then `make infra`. tests/api/deploy.rs holds this list to
# the README: every setting there is here, or on its list of local-only or stack-wired ones.
SETTINGS = [
    ("RUST_LOG", "string", "info", {"allowed": ["error", "warn", "info", "debug", "trace"]}),
    ("JWT_ISSUER", "string", "", {}),
    ("JWT_AUDIENCE", "string", "toolreg-api", {}),
    ("ACCESS_TOKEN_TTL_MINUTES", "number", 15, {"min": 1}),
    ("REFRESH_TOKEN_TTL_DAYS", "number", 14, {"min": 1}),
    ("ELEVATED_TOKEN_TTL_MINUTES", "number", 5, {"min": 1}),
    ("JWT_KEY_TTL_SECONDS", "number", 300, {"min": 1, "max": 86400}),
    ("POLICY_CACHE_TTL_SECONDS", "number", 30, {"min": 0, "max": 3600}),
    ("LOGIN_RATE_LIMIT_IP", "string", "5/minute", {}),
    ("LOGIN_RATE_LIMIT_USERNAME", "string", "20/15 minutes", {}),
    ("OAUTH_RATE_LIMIT_CLIENT", "string", "60/minute", {}),
    ("OAUTH_RATE_LIMIT_IP", "string", "120/minute", {}),
    ("ACCESS_RATE_LIMIT_PRINCIPAL", "string", "120/minute", {}),
    # No default: every URL toolreg hands out is built from it, and no deployment can guess it.
    ("PUBLIC_BASE_URL", "string", None, {"pattern": r"^https?://[^/?#\s]+(/[^?#\s]*)?$"}),
    ("ALLOWED_ORIGINS", "string", "", {}),
    ("REQUIRE_ADMIN_MFA", "bool", False, {}),
    ("REGISTRY_NAMESPACE", "string", "io.toolreg.local", {}),
    ("PROBE_RATE_LIMIT_USER", "string", "10/minute", {}),
    ("PROBE_RATE_LIMIT_IP", "string", "30/minute", {}),
    ("PROBE_TIMEOUT_SECONDS", "number", 5, {"min": 1, "max": 25}),
    ("PROBE_STALE_AFTER_HOURS", "number", 24, {"min": 1}),
    ("PROBE_HISTORY_TTL_DAYS", "number", 30, {"min": 1}),
    ("REPROBE_CONCURRENCY", "number", 64, {"min": 1, "max": 256}),
    ("AWS_OPERATION_TIMEOUT_SECONDS", "number", 5, {"max": 60}),
    ("AWS_ATTEMPT_TIMEOUT_SECONDS", "number", 2, {"max": 60}),
]

# (SAM parameter, Terraform variable) where they are not derived from the variable's name.
NAMES = {"RUST_LOG": ("LogLevel", "log_level")}


def sam_name(var: str) -> str:
    return NAMES.get(var, ("".join(w.capitalize() for w in var.split("_")), None))[0]


def tf_name(var: str) -> str:
    return NAMES.get(var, (None, var.lower()))[1]


def text(value) -> str:
    """A default as the environment sees it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sam_settings() -> dict[str, list[str]]:
    """The template's lines for the settings, by the head's marker they replace."""
    params, conditions, env = [], [], []
    for var, kind, default, c in SETTINGS:
        name = sam_name(var)
        params.append(f"  {name}:")
        if default is None:
            params.append("    Type: String")
        elif kind == "number":
            params.append("    Type: Number")
            params.append(f"    Default: {default}")
        else:
            params.append("    Type: String")
            params.append(f"    Default: {json.dumps(text(default))}")
        allowed = ["true", "false"] if kind == "bool" else c.get("allowed")
        if allowed:
            params.append(f"    AllowedValues: [{', '.join(json.dumps(a) for a in allowed)}]")
        if "pattern" in c:
            params.append(f"    AllowedPattern: {json.dumps(c['pattern'])}")
        if "min" in c:
            params.append(f"    MinValue: {c['min']}")
        if "max" in c:
            params.append(f"    MaxValue: {c['max']}")
        unset = "; empty leaves it unset (the service's default)" if text(default) == "" else ""
        unset = "; required" if default is None else unset
        params.append(f"    Description: {json.dumps(var + unset + ' (README.md, Configuration)')}")
        if text(default) == "":
            conditions.append(f'  Has{name}: !Not [!Equals [!Ref {name}, ""]]')
            env.append(f"        {var}: !If [Has{name}, !Ref {name}, !Ref AWS::NoValue]")
        else:
            env.append(f"        {var}: !Ref {name}")
    return {
        "# @settings-parameters": params,
        "# @settings-conditions": conditions,
        "# @settings-environment": env,
    }


def hcl(value, kind: str) -> str:
    if kind == "number":
        return str(value)
    if kind == "bool":
        return text(value)
    return json.dumps(value)


def terraform_settings() -> str:
    """infra/terraform/settings.tf, formatted as `terraform fmt` leaves it."""
    out = [
        "# GENERATED by scripts/gen_template.py from its SETTINGS (`make infra`); do not edit.",
        "# The settings a deployment chooses (README.md, Configuration), with the README's defaults;",
        "# main.tf passes local.settings to every function, leaving empty ones unset.",
    ]
    for var, kind, default, c in SETTINGS:
        name = tf_name(var)
        unset = "; empty leaves it unset (the service's default)" if text(default) == "" else ""
        unset = "; required" if default is None else unset
        out.append("")
        out.append(f'variable "{name}" {{')
        out.append(f'  description = "{var}{unset}"')
        out.append(f"  type        = {kind}")
        if default is not None:
            out.append(f"  default     = {hcl(default, kind)}")
        conds, what = [], []
        if c.get("pattern"):
            conds.append(f"can(regex({json.dumps(c['pattern'])}, var.{name}))")
            what.append("an http(s) URL without query or fragment")
        if c.get("allowed"):
            conds.append(f"contains({json.dumps(c['allowed'])}, var.{name})")
            what.append("one of " + ", ".join(c["allowed"]))
        if "min" in c:
            conds.append(f"var.{name} >= {c['min']}")
            what.append(f"at least {c['min']}")
        if "max" in c:
            conds.append(f"var.{name} <= {c['max']}")
            what.append(f"at most {c['max']}")
        if conds:
            out.append("  validation {")
            out.append(f"    condition     = {' && '.join(conds)}")
            out.append(f'    error_message = "{name} must be {" and ".join(what)}."')
            out.append("  }")
        out.append("}")
    width = max(len(var) for var, *_ in SETTINGS)
    out.append("")
    out.append("locals {")
    out.append("  settings = {")
    for var, kind, _, _ in SETTINGS:
        ref = f"var.{tf_name(var)}"
        value = ref if kind == "string" else f"tostring({ref})"
        out.append(f"    {var.ljust(width)} = {value}")
    out.append("  }")
    out.append("}")
    return "\n".join(out)


def logical(fn: str) -> str:
    return "".join(part.capitalize() for part in fn.split("-")) + "Function"


def policy(fn: str, perms: dict) -> list[str]:
    lines = []
    statements = []
    if perms["dynamodb"]:
        resources = ["!GetAtt Table.Arn"]
        if perms["index"]:
            resources.append('!Sub "${Table.Arn}/index/*"')
        statements.append(("dynamodb", perms["dynamodb"], resources))
    if perms["kms"]:
        statements.append(("kms", perms["kms"], ["!GetAtt HeaderKey.Arn"]))
    if perms.get("signing"):
        statements.append(("kms", perms["signing"], ["!GetAtt CredentialKey.Arn"]))
    secrets = []
    if perms["secret"]:
        secrets.append("!Ref JwtSecret")
    if perms.get("pepper"):
        secrets.append("!Ref ApiKeyPepper")
    if secrets:
        statements.append(("secretsmanager", ["GetSecretValue"], secrets))
    if not statements:
        return lines
    lines.append("      Policies:")
    lines.append("        - Version: \"2012-10-17\"")
    lines.append("          Statement:")
    for service, actions, resources in statements:
        lines.append("            - Effect: Allow")
        lines.append("              Action:")
        for a in actions:
            lines.append(f"                - {service}:{a}")
        lines.append("              Resource:")
        for r in resources:
            lines.append(f"                - {r}")
    return lines


def main() -> None:
    routes = json.loads(Path(sys.argv[1]).read_text())
    perms = json.loads((ROOT / "infra/functions.json").read_text())["functions"]
    by_fn = {r["function"]: r for r in routes}
    missing = set(by_fn) - set(perms)
    if missing:
        sys.exit(f"infra/functions.json lacks permissions for {sorted(missing)}")

    settings = sam_settings()
    head = []
    for line in (ROOT / "infra/template.head.yaml").read_text().rstrip("\n").split("\n"):
        head.extend(settings.get(line.strip(), [line]))
    out = ["\n".join(head)]
    # Route functions in route-table order, then the scheduled ones.
    order = [r["function"] for r in routes] + [fn for fn in perms if fn not in by_fn]
    for fn in order:
        p = perms[fn]
        name = logical(fn)
        route = by_fn.get(fn)
        out.append("")
        out.append(f"  {name}:")
        out.append("    Type: AWS::Serverless::Function")
        out.append("    Properties:")
        out.append(f"      FunctionName: !Sub \"${{AWS::StackName}}-{fn}\"")
        out.append(f"      CodeUri: target/lambda/{fn}/")
        out.append(f"      Timeout: {p['timeout']}")
        out.append(f"      MemorySize: {p['memory']}")
        out.append("      LoggingConfig:")
        out.append(f"        LogGroup: !Ref {name}Logs")
        out.extend(policy(fn, p))
        out.append("      Events:")
        if route:
            out.append("        Api:")
            out.append("          Type: HttpApi")
            out.append("          Properties:")
            out.append("            ApiId: !Ref Api")
            out.append(f"            Method: {route['method']}")
            out.append(f"            Path: {route['path']}")
        else:
            out.append("        Schedule:")
            out.append("          Type: ScheduleV2")
            out.append("          Properties:")
            out.append("            ScheduleExpression: !Ref ReprobeSchedule")
            out.append("            Description: Re-probe remote tools whose probe went stale")
        out.append("")
        out.append(f"  {name}Logs:")
        out.append("    Type: AWS::Logs::LogGroup")
        out.append("    Properties:")
        out.append(f"      LogGroupName: !Sub \"/aws/lambda/${{AWS::StackName}}-{fn}\"")
        out.append("      RetentionInDays: !Ref LogRetentionDays")
    out.append("")
    out.append((ROOT / "infra/template.tail.yaml").read_text().rstrip("\n"))
    print("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1:] == ["--terraform-settings"]:
        print(terraform_settings())
    else:
        main()
