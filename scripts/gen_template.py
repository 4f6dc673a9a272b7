#!/usr/bin/env python3
"""Writes template.yaml (AWS SAM) from the code's route table and infra/functions.json.

    make infra    # writes infra/routes.json, infra/functions.json, then:
    python3 scripts/gen_template.py infra/routes.json > template.yaml

tests/api/deploy.rs fails when template.yaml no longer matches the route table, so a new route
means re-running `make infra`.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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

    out = [(ROOT / "infra/template.head.yaml").read_text().rstrip("\n")]
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
    main()
