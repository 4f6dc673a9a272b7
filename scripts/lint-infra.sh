#!/usr/bin/env bash
# Lints the deployment definitions offline: cfn-lint and `sam validate --lint` on template.yaml,
# and terraform fmt/init/validate on infra/terraform where terraform and its AWS provider mirror
# are on the machine. Installs the Python linters into the project virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/cfn-lint --version >/dev/null 2>&1 || ! .venv/bin/sam --version >/dev/null 2>&1; then
  .venv/bin/pip install --quiet --disable-pip-version-check cfn-lint==1.58.0 aws-sam-cli==1.170.0
fi

echo "-- cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml

echo "-- sam validate --lint"
SAM_CLI_TELEMETRY=0 AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint AWS_DEFAULT_REGION=us-east-1 \
  .venv/bin/sam validate --lint --region us-east-1 --template-file template.yaml

if ! command -v terraform >/dev/null 2>&1; then
  echo "terraform checks skipped: terraform is not installed on this machine"
  exit 0
fi
mirror=""
for root in /opt /usr/share /usr/local /root; do
  found=$(find "$root" -xdev -path '*registry.terraform.io/hashicorp/aws/*' -name 'terraform-provider-aws*' 2>/dev/null | head -n 1 || true)
  if [ -n "$found" ]; then
    mirror=${found%%/registry.terraform.io/*}
    break
  fi
done
if [ -z "$mirror" ]; then
  echo "terraform checks skipped: no filesystem mirror of the AWS provider on this machine"
  exit 0
fi
rc=$(mktemp)
trap 'rm -f "$rc"' EXIT
cat > "$rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$rc" TF_IN_AUTOMATION=1
echo "-- terraform fmt -check"
terraform -chdir=infra/terraform fmt -check -recursive
echo "-- terraform init -backend=false (provider from $mirror)"
terraform -chdir=infra/terraform init -backend=false -input=false >/dev/null
echo "-- terraform validate"
terraform -chdir=infra/terraform validate
